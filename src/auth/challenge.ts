/**
 * RFC 6750 §3 and RFC 7617 answers for refused requests: the status, the
 * `WWW-Authenticate` challenge, and the usual JSON error body. Descriptions
 * are fixed strings of ours; a token or password never goes into one.
 */

import { RequestError } from "../http/errors.ts";

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "")}"`;
}

function bearerChallenge(realm: string, params: Record<string, string> = {}): string {
  const parts = [
    `realm=${quoted(realm)}`,
    ...Object.entries(params).map(([k, v]) => `${k}=${quoted(v)}`),
  ];
  return `Bearer ${parts.join(", ")}`;
}

/** No credentials at all: a bare challenge, no `error` (RFC 6750 §3.1). */
export function missingBearerToken(realm: string): RequestError {
  return new RequestError("UNAUTHORIZED", "Authentication is required", {
    "www-authenticate": bearerChallenge(realm),
  });
}

export function invalidToken(realm: string, description: string, cause?: unknown): RequestError {
  return new RequestError(
    "UNAUTHORIZED",
    description,
    {
      "www-authenticate": bearerChallenge(realm, {
        error: "invalid_token",
        error_description: description,
      }),
    },
    { cause },
  );
}

export function insufficientScope(realm: string, scope: string): RequestError {
  const description = `Token lacks the required scope "${scope}"`;
  return new RequestError("FORBIDDEN", description, {
    "www-authenticate": bearerChallenge(realm, {
      error: "insufficient_scope",
      error_description: description,
      scope,
    }),
  });
}

/** The RFC 7617 challenge, for the weather route's Basic mode and the token endpoint alike. */
export function basicChallengeHeaders(realm: string): Record<string, string> {
  return { "www-authenticate": `Basic realm=${quoted(realm)}, charset="UTF-8"` };
}

export function basicChallenge(
  realm: string,
  message = "Authentication is required",
): RequestError {
  return new RequestError("UNAUTHORIZED", message, basicChallengeHeaders(realm));
}

export function tooManyFailures(retryAfterS: number): RequestError {
  return new RequestError("TOO_MANY_REQUESTS", "Too many failed attempts, try again later", {
    "retry-after": String(retryAfterS),
  });
}
