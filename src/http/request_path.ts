/** The path of a request's URL, the way routing reads it. */

/** A request target made only of these is its own path: no dot segment, escape, query or backslash. */
const PLAIN_TARGET = /^\/[A-Za-z0-9_\-/]*$/;

/**
 * The path of `url`, exactly as `new URL(url).pathname` gives it. Deno builds
 * request.url as `scheme://host` followed by the request target; a target of
 * plain characters is its own path and is taken as it is (parsing a URL on
 * every request showed in the profile); anything else is left to the URL
 * parser. The caller has checked the host (no "/", "?" or "#" in it).
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start > 0) {
    const target = url.slice(start);
    if (PLAIN_TARGET.test(target)) return target;
  }
  return new URL(url).pathname;
}
