/**
 * Errors a caller caused, each with its HTTP status and a stable code. The
 * edge (`app.ts`) turns them into `{ error_code, error_message }` bodies;
 * messages are short, start with a capital and never contain a secret.
 */

export const REQUEST_ERRORS = {
  INVALID_BODY: {
    status: 400,
    when:
      "An empty body, bytes that are not UTF-8, malformed JSON, or JSON that is not an object. " +
      "(Fields that cannot be used are a `200` with `error_code: INVALID_INPUT`.)",
  },
  INVALID_HOST: {
    status: 400,
    when:
      "A `Host` header, or the authority of a request target in absolute form (`GET http://host/path`), that is not a host name or IP address with an optional port (e.g. one with `/`, `?`, `#`, `@`, `\\` or spaces)",
  },
  UNAUTHORIZED: {
    status: 401,
    when: "No credentials, or credentials that are refused; `WWW-Authenticate` says which and why",
  },
  FORBIDDEN: {
    status: 403,
    when:
      "A valid token without `AUTH_REQUIRED_SCOPE`, or an `ININ-Organization-Id` not in `GENESYS_ORG_IDS`",
  },
  NOT_FOUND: { status: 404, when: "Unknown path" },
  METHOD_NOT_ALLOWED: {
    status: 405,
    when: "Wrong method for the path; `Allow` lists the right ones",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    when: "The request body did not arrive within `REQUEST_DEADLINE_MS`",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    when: "Body over 16 KiB, whether announced by Content-Length or sent chunked",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    when: "No Content-Type, or one other than `application/json` (or `application/*+json`)",
  },
  TOO_MANY_REQUESTS: {
    status: 429,
    when:
      "Too many failed authentication attempts for one user name from one address; `Retry-After` says when to retry. The right credentials are never refused",
  },
  INTERNAL_ERROR: { status: 500, when: "A bug; the detail is in the log, never in the answer" },
  AUTH_UNAVAILABLE: {
    status: 503,
    when:
      "Tokens cannot be checked: the identity provider's key set is unreachable and no usable keys are cached",
  },
  OVERLOADED: {
    status: 503,
    when:
      "`MAX_CONCURRENT_REQUESTS` requests are already in flight; `Retry-After` says when to retry",
  },
  NOT_READY: {
    status: 503,
    when:
      "`GET /readyz` only: the service cannot serve yet (e.g. the identity provider's keys are not loaded)",
  },
} as const satisfies Record<string, { status: number; when: string }>;

export type RequestErrorCode = keyof typeof REQUEST_ERRORS;

export class RequestError extends Error {
  override name = "RequestError";
  readonly status: number;

  constructor(
    readonly code: RequestErrorCode,
    message: string,
    /** Extra response headers, e.g. `Allow` or `WWW-Authenticate`. */
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = REQUEST_ERRORS[code].status;
  }
}
