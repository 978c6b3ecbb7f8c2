/** Sizes of text in UTF-8, the bytes a log line or a stored value takes. */

const encoder = new TextEncoder();

/**
 * True when `text` takes at most `maxBytes` in UTF-8. A UTF-16 code unit
 * takes 1 to 3 bytes (a surrogate pair 4 for 2), so the text is encoded only
 * when its length leaves the answer in doubt.
 */
export function fitsInUtf8(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return false;
  if (text.length * 3 <= maxBytes) return true;
  return encoder.encode(text).byteLength <= maxBytes;
}
