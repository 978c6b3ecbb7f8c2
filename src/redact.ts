/**
 * Removes secrets from text before it is logged or returned.
 *
 * Deno's fetch errors embed the request URL, and the OpenWeatherMap URL carries
 * the API key as `appid`, so every string that leaves the process passes
 * through a redactor. It strips the configured secret values (raw and
 * URL-encoded, since a key inside a URL is encoded) and, as a second line of
 * defence, the value of any credential-bearing query parameter.
 */

export const REDACTED = "[REDACTED]";

/** Query parameters whose values are credentials wherever they appear. */
const CREDENTIAL_QUERY_PARAMETER =
  /([?&](?:appid|api_key|apikey|key|token|access_token|client_secret)=)[^&\s#"')]*/gi;

export type Redactor = (text: string) => string;

export function createRedactor(secrets: readonly string[]): Redactor {
  const needles = [...new Set(secrets.flatMap((secret) => [secret, encodeURIComponent(secret)]))]
    .filter((needle) => needle.length > 0)
    // Longest first, so a secret that contains another is removed whole.
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let redacted = text;
    for (const needle of needles) redacted = redacted.replaceAll(needle, REDACTED);
    return redacted.replace(CREDENTIAL_QUERY_PARAMETER, `$1${REDACTED}`);
  };
}
