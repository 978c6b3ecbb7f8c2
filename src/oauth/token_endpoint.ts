/**
 * `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4) with
 * client_secret_basic or client_secret_post, answering RFC 9068 JWT access
 * tokens, and §5.2 errors.
 */

import { SignJWT } from "jose";
import { delayFailure, failureKey, type FailureThrottle } from "../auth/failure_throttle.ts";
import { basicChallengeHeaders } from "../auth/challenge.ts";
import { credentialsChecker } from "../auth/secret_compare.ts";
import { jsonResponse } from "../http/responses.ts";
import type { RouteContext, RouteHandler } from "../http/routes.ts";
import type { BuiltInOAuthConfig } from "./config.ts";
import { OAuthError, oauthErrorResponse } from "./errors.ts";
import type { SigningKey } from "./signing_key.ts";
import { formDecoded, presentedClient, readTokenForm } from "./token_request.ts";

export const ACCESS_TOKEN_TYPE = "at+jwt";

export interface TokenEndpointOptions {
  config: BuiltInOAuthConfig;
  /** The `aud` of every token issued. */
  audience: string;
  realm: string;
  /** May still be being generated when the endpoint is built (see createBuiltInIssuer). */
  signingKey: Promise<SigningKey>;
  throttle: FailureThrottle;
  /** How long the form body may take to arrive; past it, 408. */
  bodyDeadlineMs: number;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export function createTokenEndpoint(options: TokenEndpointOptions): RouteHandler {
  const { config } = options;
  const matchesClient = credentialsChecker({ id: config.clientId, secret: config.clientSecret });
  const challenge = basicChallengeHeaders(options.realm);

  /**
   * Throws an OAuthError unless the request comes from the one configured
   * client. The right credentials always pass; wrong ones are slowed down and,
   * past the limit, answered `429 invalid_client` with Retry-After: §5.2 has no
   * throttling code, and `invalid_client` is what the failure is (the status
   * and Retry-After say "not now"; `temporarily_unavailable` is an
   * authorization-endpoint code, not a token error).
   */
  async function authenticateClient(
    request: Request,
    params: URLSearchParams,
    context: RouteContext,
  ) {
    const { credentials, viaBasic } = presentedClient(request, params, challenge);
    const matches = matchesClient(credentials) ||
      (viaBasic && matchesClient(formDecoded(credentials)));
    if (!matches) {
      const answer = options.throttle.recordFailure(
        failureKey(credentials.id, context.clientAddress),
      );
      await delayFailure(answer);
      if (answer.retryAfterS > 0) {
        throw new OAuthError(429, "invalid_client", "Too many failed attempts, try again later", {
          "retry-after": String(answer.retryAfterS),
        });
      }
      throw new OAuthError(
        401,
        "invalid_client",
        "Client authentication failed",
        viaBasic ? challenge : {},
      );
    }
    const bodyClientId = params.get("client_id");
    if (viaBasic && bodyClientId !== null && bodyClientId !== credentials.id) {
      throw new OAuthError(
        400,
        "invalid_request",
        "client_id does not match the authenticated client",
      );
    }
  }

  /** The scope to grant: what was asked for, or everything when nothing was. */
  function grantedScope(params: URLSearchParams): string {
    const grantType = params.get("grant_type");
    if (grantType === null) {
      throw new OAuthError(400, "invalid_request", 'Parameter "grant_type" is required');
    }
    if (grantType !== "client_credentials") {
      throw new OAuthError(400, "unsupported_grant_type", 'Only "client_credentials" is supported');
    }
    const requested = (params.get("scope") ?? "").split(" ").filter((scope) => scope !== "");
    const unknown = requested.filter((scope) => !config.scopes.includes(scope));
    if (unknown.length > 0) {
      throw new OAuthError(
        400,
        "invalid_scope",
        `Scope "${unknown[0]}" is not available to this client`,
      );
    }
    return (requested.length > 0 ? [...new Set(requested)] : config.scopes).join(" ");
  }

  async function issueAccessToken(scope: string): Promise<string> {
    const signingKey = await options.signingKey;
    const issuedAt = Math.floor(options.now() / 1000);
    return new SignJWT({ client_id: config.clientId, scope })
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
  }

  return async (request, context) => {
    try {
      const params = await readTokenForm(request, context, options.bodyDeadlineMs);
      await authenticateClient(request, params, context);
      const scope = grantedScope(params);
      const accessToken = await issueAccessToken(scope);
      context.subject = config.clientId;
      return jsonResponse(
        { access_token: accessToken, token_type: "Bearer", expires_in: config.tokenTtlS, scope },
        { headers: { pragma: "no-cache" } },
      );
    } catch (error) {
      if (error instanceof OAuthError) return oauthErrorResponse(context, error);
      throw error;
    }
  };
}
