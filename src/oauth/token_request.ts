/**
 * Reading a token request (RFC 6749 §4.4): the form body, bounded, and the
 * client's credentials, by exactly one of client_secret_basic and
 * client_secret_post. Every problem is an OAuthError naming what is wrong.
 */

import { parseBasicAuthorization } from "../auth/basic.ts";
import { BodyTooLargeError } from "../process/bounded_body.ts";
import { type BodyReadHolder, readBodyBytes } from "../http/request_body.ts";
import { mediaTypeOf } from "../http/responses.ts";
import { TimeoutError, withTimeout } from "../process/timeout.ts";
import { OAuthError } from "./errors.ts";

const MAX_TOKEN_REQUEST_BYTES = 16 * 1024;

export interface ClientCredentials {
  id: string;
  secret: string;
}

export interface PresentedClient {
  credentials: ClientCredentials;
  /** Basic credentials may be form-encoded (RFC 6749 §2.3.1), so they are matched two ways. */
  viaBasic: boolean;
}

/**
 * The request's form parameters, each present at most once. A body that has
 * not arrived within `deadlineMs` is a 408: without it, a client that sends
 * headers and no body holds its connection and buffers for ever.
 */
export async function readTokenForm(
  request: Request,
  holder: BodyReadHolder,
  deadlineMs: number,
): Promise<URLSearchParams> {
  const mediaType = mediaTypeOf(request.headers.get("content-type"));
  if (mediaType !== "application/x-www-form-urlencoded") {
    await request.body?.cancel().catch(() => {});
    throw new OAuthError(
      400,
      "invalid_request",
      'Content type must be "application/x-www-form-urlencoded"',
    );
  }
  let params: URLSearchParams;
  try {
    // On the deadline the read is left running, not cancelled: Deno then
    // answers with `Connection: close` and closes once the body is in (or the
    // client gives up), while a cancelled body would leave the connection open
    // for the next request. The edge bounds how many such reads run.
    const bytes = await withTimeout(
      () => readBodyBytes(request, holder, MAX_TOKEN_REQUEST_BYTES),
      deadlineMs,
    );
    params = new URLSearchParams(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    if (error instanceof TimeoutError) {
      throw new OAuthError(408, "invalid_request", "Request body did not arrive in time");
    }
    throw error instanceof BodyTooLargeError
      ? new OAuthError(
        413,
        "invalid_request",
        `Request body must be at most ${MAX_TOKEN_REQUEST_BYTES} bytes`,
      )
      : new OAuthError(400, "invalid_request", "Request body must be UTF-8 form data");
  }
  for (const name of new Set(params.keys())) {
    if (params.getAll(name).length > 1) {
      throw new OAuthError(400, "invalid_request", `Parameter "${name}" must not be repeated`);
    }
  }
  return params;
}

/** The client's credentials as presented, or an OAuthError when there are none or two kinds. */
export function presentedClient(
  request: Request,
  params: URLSearchParams,
  challenge: Record<string, string>,
): PresentedClient {
  const authorization = request.headers.get("authorization");
  const viaBasic = authorization !== null;
  const postedSecret = params.get("client_secret");
  if (viaBasic && postedSecret !== null) {
    throw new OAuthError(400, "invalid_request", "Use one client authentication method, not two");
  }
  const credentials = viaBasic
    ? parseBasicAuthorization(authorization)
    : postedSecret !== null
    ? { id: params.get("client_id") ?? "", secret: postedSecret }
    : undefined;
  if (credentials === undefined) {
    throw new OAuthError(401, "invalid_client", "Client authentication is required", challenge);
  }
  return { credentials, viaBasic };
}

/**
 * RFC 6749 §2.3.1 has client_secret_basic form-encode the id and secret
 * before Base64 ("a+b%3A" means "a b:"), but many clients, Genesys's custom
 * auth action among them, send them as they are. Both readings are tried.
 */
export function formDecoded(credentials: ClientCredentials): ClientCredentials {
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value.replaceAll("+", " "));
    } catch {
      return value;
    }
  };
  return { id: decode(credentials.id), secret: decode(credentials.secret) };
}
