/**
 * Removes secrets from text before it is logged or returned.
 *
 * Every string that leaves the process through the logger passes through a
 * redactor. It strips the configured secret values (raw and URL-encoded,
 * since a key inside a URL is encoded), every query value of any http(s)
 * URL, and, as a further line of defence, the value of any
 * credential-bearing query parameter outside a URL. It runs on every log
 * field of every request, so it is one regular expression, and text that
 * matches nothing is returned untouched; text without an `=` is first
 * checked against the secrets alone, which is much cheaper.
 */

export const REDACTED = "[REDACTED]";

/** Query parameters whose values are credentials wherever they appear. */
const CREDENTIAL_QUERY_PARAMETER = String
  .raw`(?<=[?&](?:appid|api_key|apikey|key|token|access_token|client_secret)=)[^&\s#"')]*`;

/**
 * Every query value of any http(s) URL inside a text: a key set URL signed
 * with `?sig=...`, a secret in an error message that quotes its URL. The
 * lookbehind finds the URL's start; only the value after each `=` goes.
 */
const URL_QUERY_VALUE = String
  .raw`(?<=\bhttps?://[^\s?#"'<>]*\?(?:[^\s#"'<>]*&)?[^\s=&#"'<>]*=)[^&\s#"'<>)]*`;

export type Redactor = (text: string) => string;

/**
 * A URL as it may be logged or exported: origin and path, and the name of
 * every query parameter with its value replaced.
 */
export function redactUrl(url: URL | string): string {
  const parsed = typeof url === "string" ? URL.parse(url) : url;
  if (parsed === null) return REDACTED;
  const names = [...parsed.searchParams.keys()];
  const query = names.length > 0
    ? "?" + names.map((name) => `${encodeURIComponent(name)}=${REDACTED}`).join("&")
    : "";
  return parsed.origin + parsed.pathname + query;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function createRedactor(secrets: readonly string[]): Redactor {
  const needles = [...new Set(secrets.flatMap((secret) => [secret, encodeURIComponent(secret)]))]
    .filter((needle) => needle.length > 0)
    // Longest first, so a secret that contains another is removed whole.
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp);
  const pattern = new RegExp(
    [...needles, CREDENTIAL_QUERY_PARAMETER, URL_QUERY_VALUE].join("|"),
    "gi",
  );
  const redactAll = (text: string) =>
    text.replace(pattern, (match) => match === "" ? match : REDACTED);
  // Both query patterns match right after an "=" only. A text without one
  // (most log fields) can only hold a secret, and a pattern of the secrets
  // alone finds the same matches some times faster than one whose every
  // position tries two lookbehinds.
  if (needles.length === 0) return (text) => text.includes("=") ? redactAll(text) : text;
  const secretsOnly = new RegExp(needles.join("|"), "i");
  return (text) =>
    text.includes("=") ? redactAll(text) : secretsOnly.test(text) ? redactAll(text) : text;
}
