/**
 * The built-in OAuth 2.0 authorization server, for Genesys's "User Defined
 * (OAuth)" credential type when there is no identity provider to use. It
 * issues tokens at `POST /oauth/token`, publishes its key and metadata, and
 * hands authentication the trust it needs to accept its own tokens.
 */

import { createLocalJWKSet } from "jose";
import type { TokenIssuerTrust } from "../auth/bearer.ts";
import type { FailureThrottle } from "../auth/failure_throttle.ts";
import type { Routes } from "../http/routes.ts";
import type { Logger } from "../process/log.ts";
import type { SigningAlgorithm } from "../auth/config.ts";
import type { BuiltInOAuthConfig } from "./config.ts";
import { documentRoutes, TOKEN_PATH } from "./documents.ts";
import { loadSigningKey } from "./signing_key.ts";
import { ACCESS_TOKEN_TYPE, createTokenEndpoint } from "./token_endpoint.ts";

export { JWKS_PATH, METADATA_PATH, TOKEN_PATH } from "./documents.ts";
export { SigningKeyError } from "./signing_key.ts";

export interface BuiltInIssuerOptions {
  config: BuiltInOAuthConfig;
  /** The `aud` of every token issued. */
  audience: string;
  realm: string;
  /** The first is the signing algorithm of a generated key. */
  algorithms: readonly SigningAlgorithm[];
  throttle: FailureThrottle;
  /** How long a token request's body may take to arrive (REQUEST_DEADLINE_MS). */
  bodyDeadlineMs: number;
  now: () => number;
  logger: Logger;
}

export interface BuiltInIssuer {
  /** How the bearer authenticator recognises and verifies this server's tokens. */
  trust: TokenIssuerTrust;
  routes: Routes;
  /** Resolves once a key being generated is done, so nothing outlives the service. */
  close(): Promise<void>;
}

export async function createBuiltInIssuer(options: BuiltInIssuerOptions): Promise<BuiltInIssuer> {
  const { config, logger } = options;
  const signingKey = loadSigningKey(config, options.algorithms);
  if (config.signingKey !== undefined) {
    // A configured key that cannot be used stops start-up.
    await signingKey;
  } else {
    // Generating an RSA key takes 70-200 ms, off the main thread: the service
    // answers meanwhile, and only the token routes wait for the key.
    signingKey.then(
      (key) =>
        logger.warn(
          "No OAUTH_SIGNING_KEY or OAUTH_SIGNING_KEY_FILE: a signing key was generated for this process. " +
            "Tokens it issues stop working at restart and are not accepted by other instances",
          { kid: key.publicJwk.kid },
        ),
      (error) => logger.error("The signing key could not be generated", { error }),
    );
  }
  const keySet = signingKey.then((key) => createLocalJWKSet({ keys: [key.publicJwk] }));
  return {
    trust: {
      issuer: config.issuer,
      getKey: async (header, token) => await (await keySet)(header, token),
      typ: ACCESS_TOKEN_TYPE,
    },
    routes: {
      [TOKEN_PATH]: { POST: createTokenEndpoint({ ...options, signingKey }) },
      ...documentRoutes(config, signingKey),
    },
    close: () => signingKey.then(() => {}, () => {}),
  };
}
