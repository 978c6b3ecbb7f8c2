/**
 * Reads a body whole, but never more than a limit: the check runs per chunk,
 * so a chunked body without a length is cut off as early as a body that
 * announces its size.
 *
 * `readBoundedBytes` reads any stream (request bodies, undici's Node streams
 * for upstream answers); leaving its loop early cancels or destroys the
 * source. `startBodyRead` reads a request body that may stall, into one
 * buffer of its own, and says when it has ended.
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

/** A request body being read: its bytes once complete, and whether it has ended. */
export interface BodyRead {
  /** The whole body; rejects with BodyTooLargeError past the limit. */
  readonly bytes: Promise<Uint8Array>;
  /** True once `bytes` has settled. */
  readonly done: boolean;
}

/** `bytes` as a BodyRead. */
export function bodyRead(bytes: Promise<Uint8Array>): BodyRead {
  let done = false;
  bytes.then(() => done = true, () => done = true);
  return {
    bytes,
    get done() {
      return done;
    },
  };
}

/**
 * The smallest view a read is given: in Deno 2.9 a 1-byte BYOB read of a
 * chunked body never completes. It is also the "little" the buffer has
 * beyond the limit, so a body one byte too large is still seen as such.
 */
const MIN_READ_VIEW_BYTES = 1024;

/**
 * Starts reading a body that announced no length (chunked, as Genesys sends
 * it), at most `limitBytes` of it.
 *
 * A body still arriving is read with a BYOB reader into one buffer of the
 * limit plus MIN_READ_VIEW_BYTES. The default reader instead hands each
 * pending read a 64 KiB chunk of its own, kept alive by the few bytes it
 * returns: measured, 256 clients that each send one chunk and stall cost 32
 * MiB more that way. A body Deno already holds whole is not a byte stream
 * (it has no BYOB reader) and is read chunk by chunk: its memory is spent.
 */
export function startBodyRead(
  body: ReadableStream<Uint8Array> | null,
  limitBytes: number,
): BodyRead {
  let reader: ReadableStreamBYOBReader | undefined;
  try {
    reader = body?.getReader({ mode: "byob" });
  } catch { /* not a byte stream: see above */ }
  return bodyRead(
    reader === undefined
      ? readBoundedBytes(body, limitBytes)
      : readIntoOneBuffer(reader, limitBytes),
  );
}

async function readIntoOneBuffer(
  reader: ReadableStreamBYOBReader,
  limitBytes: number,
): Promise<Uint8Array> {
  // Each read takes the buffer over and hands it back in its answer. Past the
  // limit the read stops, so every view is at least MIN_READ_VIEW_BYTES.
  let buffer = new ArrayBuffer(limitBytes + MIN_READ_VIEW_BYTES);
  let length = 0;
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer, length));
    if (value === undefined) throw new Error("Body stream was cancelled");
    buffer = value.buffer as ArrayBuffer;
    length += value.byteLength;
    if (length > limitBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limitBytes);
    }
    if (done) return new Uint8Array(buffer, 0, length);
  }
}
