/**
 * The built-in token endpoint's signing key: from OAUTH_SIGNING_KEY (PKCS#8
 * PEM or a private JWK), from OAUTH_SIGNING_KEY_FILE, or generated at start.
 * jose imports, exports and thumbprints; nothing here touches key material
 * beyond leaving the private members out of the published JWK.
 */

import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
} from "jose";
import type { SigningAlgorithm } from "../auth/config.ts";
import type { BuiltInOAuthConfig } from "./config.ts";

export interface SigningKey {
  readonly algorithm: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  /** The public half as published at /.well-known/jwks.json, with `kid`, `alg`, `use`. */
  readonly publicJwk: JWK;
  /** True when made at start: its tokens die with the process and are unknown to other instances. */
  readonly generated: boolean;
}

/** A key that cannot be used; the message names the setting, never the key. */
export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/**
 * The key file, if any, was read with the configuration (src/process/secret_file.ts:
 * only from the directories meant for secrets), so this only parses text.
 */
export async function loadSigningKey(
  config: Pick<BuiltInOAuthConfig, "signingKey" | "signingKeySource">,
  algorithms: readonly SigningAlgorithm[],
): Promise<SigningKey> {
  const source = config.signingKeySource ?? "OAUTH_SIGNING_KEY";
  const text = config.signingKey;

  if (text === undefined) {
    const algorithm = algorithms[0]!;
    const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
    return withPublicJwk(algorithm, privateKey, await exportJWK(publicKey), true);
  }

  try {
    if (text.trim().startsWith("{")) {
      const jwk = JSON.parse(text) as JWK;
      if (typeof jwk.d !== "string") {
        throw new SigningKeyError(`${source} must be a private JWK (it has no "d")`);
      }
      const algorithm = (jwk.alg ?? algorithms[0]) as SigningAlgorithm;
      if (!algorithms.includes(algorithm)) {
        throw new SigningKeyError(
          `${source} is a key for "${algorithm}", which AUTH_ALGORITHMS does not list`,
        );
      }
      const privateKey = await importJWK(jwk, algorithm, { extractable: false });
      return withPublicJwk(algorithm, privateKey as CryptoKey, jwk, false);
    }
    const algorithm = algorithms[0]!;
    const privateKey = await importPKCS8(text, algorithm, { extractable: true });
    return withPublicJwk(algorithm, privateKey, await exportJWK(privateKey), false);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(
      `${source} is not a PKCS#8 PEM private key or private JWK usable with "${algorithms[0]}" (${
        (error as Error).name
      })`,
    );
  }
}

async function withPublicJwk(
  algorithm: SigningAlgorithm,
  privateKey: CryptoKey,
  jwk: JWK,
  generated: boolean,
): Promise<SigningKey> {
  const publicJwk: JWK = Object.fromEntries(
    Object.entries(jwk).filter(([member]) => !PRIVATE_JWK_MEMBERS.includes(member)),
  );
  delete publicJwk.key_ops;
  delete publicJwk.ext;
  publicJwk.kid ??= await calculateJwkThumbprint(publicJwk);
  publicJwk.alg = algorithm;
  publicJwk.use = "sig";
  return { algorithm, privateKey, publicJwk, generated };
}
