/**
 * The built-in OAuth 2.0 authorization server, for Genesys's "User Defined
 * (OAuth)" credential type when there is no identity provider to use:
 *
 * - `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4) with
 *   client_secret_basic or client_secret_post, answering RFC 9068 JWT access
 *   tokens, and §5.2 errors;
 * - `GET /.well-known/jwks.json`: the public key, for anyone verifying them;
 * - `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata.
 */

import { SignJWT } from "jose";
import { parseBasicAuthorization } from "../auth/basic.ts";
import type { FailureThrottle } from "../auth/failure_throttle.ts";
import { credentialsChecker } from "../auth/secret_compare.ts";
import { BodyTooLargeError, readBoundedBytes } from "../http/bounded_body.ts";
import type { BuiltInOAuthConfig } from "../config.ts";
import { jsonResponse, mediaTypeOf } from "../http/responses.ts";
import type { RouteContext, Routes } from "../http/routes.ts";
import type { SigningKey } from "./signing_key.ts";

export const TOKEN_PATH = "/oauth/token";
export const JWKS_PATH = "/.well-known/jwks.json";
export const METADATA_PATH = "/.well-known/oauth-authorization-server";

const MAX_TOKEN_REQUEST_BYTES = 16 * 1024;
export const ACCESS_TOKEN_TYPE = "at+jwt";

export interface OAuthServerOptions {
  config: BuiltInOAuthConfig;
  /** The `aud` of every token issued. */
  audience: string;
  realm: string;
  signingKey: SigningKey;
  throttle: FailureThrottle;
  /** Milliseconds since the epoch. */
  now: () => number;
}

type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "temporarily_unavailable";

function oauthError(
  context: RouteContext,
  status: number,
  error: OAuthErrorCode,
  description: string,
  headers: Record<string, string> = {},
): Response {
  context.errorCode = error;
  return jsonResponse({ error, error_description: description }, {
    status,
    headers: { pragma: "no-cache", ...headers },
  });
}

export function createOAuthRoutes(options: OAuthServerOptions): Routes {
  const { config, signingKey } = options;
  const matchesClient = credentialsChecker({ id: config.clientId, secret: config.clientSecret });
  const keySet = { keys: [signingKey.publicJwk] };
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

  async function token(request: Request, context: RouteContext): Promise<Response> {
    const retryAfter = options.throttle.retryAfterS(context.clientAddress);
    if (retryAfter > 0) {
      return oauthError(
        context,
        429,
        "temporarily_unavailable",
        "Too many failed attempts, try again later",
        {
          "retry-after": String(retryAfter),
        },
      );
    }
    const mediaType = mediaTypeOf(request.headers.get("content-type"));
    if (mediaType !== "application/x-www-form-urlencoded") {
      await request.body?.cancel().catch(() => {});
      return oauthError(
        context,
        400,
        "invalid_request",
        'Content type must be "application/x-www-form-urlencoded"',
      );
    }
    let params: URLSearchParams;
    try {
      const bytes = await readBoundedBytes(request.body, MAX_TOKEN_REQUEST_BYTES);
      params = new URLSearchParams(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (error) {
      return error instanceof BodyTooLargeError
        ? oauthError(
          context,
          413,
          "invalid_request",
          `Request body must be at most ${MAX_TOKEN_REQUEST_BYTES} bytes`,
        )
        : oauthError(context, 400, "invalid_request", "Request body must be UTF-8 form data");
    }
    for (const name of new Set(params.keys())) {
      if (params.getAll(name).length > 1) {
        return oauthError(
          context,
          400,
          "invalid_request",
          `Parameter "${name}" must not be repeated`,
        );
      }
    }

    // Client authentication: exactly one of client_secret_basic and client_secret_post.
    const authorization = request.headers.get("authorization");
    const usedBasic = authorization !== null;
    const postedSecret = params.get("client_secret");
    if (usedBasic && postedSecret !== null) {
      return oauthError(
        context,
        400,
        "invalid_request",
        "Use one client authentication method, not two",
      );
    }
    const presented = usedBasic
      ? parseBasicAuthorization(authorization)
      : postedSecret !== null
      ? { id: params.get("client_id") ?? "", secret: postedSecret }
      : undefined;
    const challenge = { "www-authenticate": `Basic realm="${options.realm}", charset="UTF-8"` };
    if (presented === undefined) {
      return oauthError(
        context,
        401,
        "invalid_client",
        "Client authentication is required",
        challenge,
      );
    }
    const matches = matchesClient(presented) ||
      (usedBasic && matchesClient(formDecoded(presented)));
    if (!matches) {
      options.throttle.recordFailure(context.clientAddress);
      return oauthError(
        context,
        401,
        "invalid_client",
        "Client authentication failed",
        usedBasic ? challenge : {},
      );
    }
    const bodyClientId = params.get("client_id");
    if (usedBasic && bodyClientId !== null && bodyClientId !== presented.id) {
      return oauthError(
        context,
        400,
        "invalid_request",
        "client_id does not match the authenticated client",
      );
    }

    const grantType = params.get("grant_type");
    if (grantType === null) {
      return oauthError(context, 400, "invalid_request", 'Parameter "grant_type" is required');
    }
    if (grantType !== "client_credentials") {
      return oauthError(
        context,
        400,
        "unsupported_grant_type",
        'Only "client_credentials" is supported',
      );
    }

    const requested = (params.get("scope") ?? "").split(" ").filter((scope) => scope !== "");
    const unknown = requested.filter((scope) => !config.scopes.includes(scope));
    if (unknown.length > 0) {
      return oauthError(
        context,
        400,
        "invalid_scope",
        `Scope "${unknown[0]}" is not available to this client`,
      );
    }
    const scope = (requested.length > 0 ? [...new Set(requested)] : config.scopes).join(" ");

    const issuedAt = Math.floor(options.now() / 1000);
    const accessToken = await new SignJWT({ client_id: config.clientId, scope })
      .setProtectedHeader({
        alg: signingKey.algorithm,
        kid: signingKey.publicJwk.kid!,
        typ: ACCESS_TOKEN_TYPE,
      })
      .setIssuer(config.issuer)
      .setSubject(config.clientId)
      .setAudience(options.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + config.tokenTtlS)
      .setJti(crypto.randomUUID())
      .sign(signingKey.privateKey);
    context.subject = config.clientId;
    return jsonResponse(
      { access_token: accessToken, token_type: "Bearer", expires_in: config.tokenTtlS, scope },
      { headers: { pragma: "no-cache" } },
    );
  }

  const publish = (body: unknown) => () =>
    // Public documents: cacheable for a few minutes, unlike every other answer.
    jsonResponse(body, { headers: { "cache-control": "public, max-age=300" } });

  return {
    [TOKEN_PATH]: { POST: token },
    [JWKS_PATH]: { GET: publish(keySet), HEAD: publish(keySet) },
    [METADATA_PATH]: { GET: publish(metadata), HEAD: publish(metadata) },
  };
}

/**
 * RFC 6749 §2.3.1 has client_secret_basic form-encode the id and secret
 * before Base64 ("a+b%3A" means "a b:"), but many clients, Genesys's custom
 * auth action among them, send them as they are. Both readings are tried.
 */
function formDecoded(credentials: { id: string; secret: string }): { id: string; secret: string } {
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value.replaceAll("+", " "));
    } catch {
      return value;
    }
  };
  return { id: decode(credentials.id), secret: decode(credentials.secret) };
}
