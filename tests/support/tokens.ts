/** Keys and tokens minted with jose, as an identity provider would. */

import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function generateTestKey(kid: string, alg = "RS256"): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicJwk };
}

export interface TokenOptions {
  key: TestKey;
  /** Seconds since the epoch that count as "now" for iat and exp. */
  nowS: number;
  claims?: JWTPayload;
  header?: Record<string, unknown>;
  /** Leave `exp` out entirely. */
  withoutExpiry?: boolean;
  /** Leave `iat` out entirely. */
  withoutIssuedAt?: boolean;
}

export function signToken(
  { key, nowS, claims = {}, header = {}, withoutExpiry, withoutIssuedAt }: TokenOptions,
): Promise<string> {
  const payload: JWTPayload = {
    sub: "genesys-client",
    scope: "weather.read",
    ...(withoutIssuedAt ? {} : { iat: nowS }),
    ...(withoutExpiry ? {} : { exp: nowS + 3600 }),
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
    .sign(key.privateKey);
}
