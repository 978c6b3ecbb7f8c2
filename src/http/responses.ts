/** Response helpers shared by every route. */

import { RequestError } from "./errors.ts";

/**
 * Headers on every answer unless the route set its own: nothing is cacheable
 * by default (the public key documents say otherwise), nothing is sniffed.
 */
const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
} as const;

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaTypeOf(contentType: string | null): string | undefined {
  return contentType?.split(";", 1)[0]?.trim().toLowerCase();
}

export function jsonResponse(
  body: unknown,
  init: { status?: number; headers?: HeadersInit } = {},
): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  for (const [name, value] of Object.entries(COMMON_HEADERS)) {
    if (!headers.has(name)) headers.set(name, value);
  }
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

export function errorResponse(error: RequestError): Response {
  return jsonResponse(
    { error_code: error.code, error_message: error.message },
    { status: error.status, headers: error.headers },
  );
}
