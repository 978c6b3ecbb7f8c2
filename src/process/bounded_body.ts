/**
 * Reads a body whole, but never more than a limit: the check runs per chunk,
 * so a chunked body without a length is cut off as early as a body that
 * announces its size. Works for web streams (request bodies) and Node
 * streams (undici response bodies) alike: leaving the loop early cancels or
 * destroys the source.
 */

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
  constructor(readonly limitBytes: number) {
    super(`Body is larger than ${limitBytes} bytes`);
  }
}

export async function readBoundedBytes(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null,
  limitBytes: number,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limitBytes) throw new BodyTooLargeError(limitBytes);
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
