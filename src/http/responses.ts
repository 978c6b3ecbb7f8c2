/** Response helpers shared by every route. */

import { RequestError } from "./errors.ts";

export type ResponseHeaders = Readonly<Record<string, string>>;

/**
 * Headers on every JSON answer unless the route set its own: nothing is
 * cacheable by default (the public key documents say otherwise), nothing is
 * sniffed.
 */
const JSON_HEADERS: ResponseHeaders = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaTypeOf(contentType: string | null): string | undefined {
  return contentType?.split(";", 1)[0]?.trim().toLowerCase();
}

/**
 * An answer whose JSON is already serialised. Every header goes into the
 * constructor: setting one on a Response once it is built costs Deno a copy
 * of its header list. Header names in `headers` are lower case.
 */
export function jsonTextResponse(
  json: string,
  status: number,
  headers: ResponseHeaders = {},
): Response {
  return new Response(json, { status, headers: { ...JSON_HEADERS, ...headers } });
}

export function jsonResponse(
  body: unknown,
  init: { status?: number; headers?: ResponseHeaders } = {},
): Response {
  return jsonTextResponse(JSON.stringify(body), init.status ?? 200, init.headers);
}

export function errorResponse(error: RequestError, headers: ResponseHeaders = {}): Response {
  return jsonResponse(
    { error_code: error.code, error_message: error.message },
    { status: error.status, headers: { ...error.headers, ...headers } },
  );
}
