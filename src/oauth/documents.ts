/**
 * The built-in server's public documents: `GET /.well-known/jwks.json` (the
 * public key, for anyone verifying its tokens) and
 * `GET /.well-known/oauth-authorization-server` (RFC 8414 metadata).
 */

import { jsonResponse } from "../http/responses.ts";
import type { Routes } from "../http/routes.ts";
import type { BuiltInOAuthConfig } from "./config.ts";
import type { SigningKey } from "./signing_key.ts";

export const TOKEN_PATH = "/oauth/token";
export const JWKS_PATH = "/.well-known/jwks.json";
export const METADATA_PATH = "/.well-known/oauth-authorization-server";

export function documentRoutes(
  config: BuiltInOAuthConfig,
  signingKey: Promise<SigningKey>,
): Routes {
  const keySet = signingKey.then((key) => ({ keys: [key.publicJwk] }));
  const metadata = {
    issuer: config.issuer,
    token_endpoint: config.issuer + TOKEN_PATH,
    jwks_uri: config.issuer + JWKS_PATH,
    grant_types_supported: ["client_credentials"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    scopes_supported: config.scopes,
    // No authorization endpoint: this server only does the client credentials grant.
    response_types_supported: [],
  };
  const publish = (body: unknown) => async () =>
    // Public documents: cacheable for a few minutes, unlike every other answer.
    jsonResponse(await body, { headers: { "cache-control": "public, max-age=300" } });
  return {
    [JWKS_PATH]: { GET: publish(keySet), HEAD: publish(keySet) },
    [METADATA_PATH]: { GET: publish(metadata), HEAD: publish(metadata) },
  };
}
