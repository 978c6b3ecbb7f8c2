/**
 * The path of a request's URL, the way routing reads it, and the host names
 * that may stand in front of it.
 *
 * Deno builds request.url from a request target in origin form (`/healthz`)
 * as `scheme://` + the Host header + the target, and takes a target in
 * absolute form (`http://a/healthz`) as it is, Host aside. Either way the
 * text between `//` and the next `/` must be a host name, or that text can
 * pick the route: `Host: x/metrics?` turns `GET /healthz` into
 * `http://x/metrics?/healthz`, and `GET http://a?b/metrics` has the real path
 * `/`, not `/metrics`.
 */

/** A DNS name or IP literal, with an optional port: no `/`, `?`, `#`, `@`, `\` or space. */
const HOST_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?$/;

/** A request target made only of these is its own path: no dot segment, escape, query or backslash. */
const PLAIN_TARGET = /^\/[A-Za-z0-9_\-/]*$/;

/** True for a host name or IP literal with an optional port, as a Host header must be. */
export function isHostName(text: string): boolean {
  return HOST_NAME.test(text);
}

/**
 * The path of `url`, exactly as `new URL(url).pathname` gives it, or
 * undefined when its authority is not a host name (or the URL does not
 * parse). A target of plain characters is its own path and is taken as it is
 * (parsing a URL on every request showed in the profile); anything else is
 * left to the URL parser.
 */
export function pathOf(url: string): string | undefined {
  const authorityStart = url.indexOf("//") + 2;
  if (authorityStart < 2) return undefined;
  const slash = url.indexOf("/", authorityStart);
  const authorityEnd = slash < 0 ? url.length : slash;
  if (!isHostName(url.slice(authorityStart, authorityEnd))) return undefined;
  const target = url.slice(authorityEnd);
  if (PLAIN_TARGET.test(target)) return target;
  return URL.parse(url)?.pathname;
}
