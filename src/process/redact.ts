/**
 * Removes secrets from text before it is logged or returned.
 *
 * Every string that leaves the process through the logger passes through a
 * redactor. It strips the configured secret values (raw and URL-encoded,
 * since a key inside a URL is encoded) and, as a second line of defence, the
 * value of any credential-bearing query parameter. It runs on every log
 * field of every request, so it is one regular expression, and text that
 * matches nothing is returned untouched.
 */

export const REDACTED = "[REDACTED]";

/** Query parameters whose values are credentials wherever they appear. */
const CREDENTIAL_QUERY_PARAMETER = String
  .raw`(?<=[?&](?:appid|api_key|apikey|key|token|access_token|client_secret)=)[^&\s#"')]*`;

export type Redactor = (text: string) => string;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function createRedactor(secrets: readonly string[]): Redactor {
  const needles = [...new Set(secrets.flatMap((secret) => [secret, encodeURIComponent(secret)]))]
    .filter((needle) => needle.length > 0)
    // Longest first, so a secret that contains another is removed whole.
    .sort((a, b) => b.length - a.length);
  const pattern = new RegExp(
    [...needles.map(escapeRegExp), CREDENTIAL_QUERY_PARAMETER].join("|"),
    "gi",
  );
  return (text) => text.replace(pattern, (match) => match === "" ? match : REDACTED);
}
