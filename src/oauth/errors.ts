/** RFC 6749 §5.2 error answers of the token endpoint. */

import { jsonResponse } from "../http/responses.ts";
import type { RouteContext } from "../http/routes.ts";

export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_grant_type"
  | "invalid_scope";

/** Thrown while a token request is read or checked; becomes its §5.2 answer. */
export class OAuthError extends Error {
  override name = "OAuthError";
  constructor(
    readonly status: number,
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

export function oauthErrorResponse(context: RouteContext, error: OAuthError): Response {
  context.errorCode = error.code;
  return jsonResponse({ error: error.code, error_description: error.description }, {
    status: error.status,
    headers: { pragma: "no-cache", ...error.headers },
  });
}
