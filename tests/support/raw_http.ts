/**
 * HTTP/1.1 by hand over a loopback TCP socket, for what fetch() cannot send:
 * a forged Host header, a body that never comes, a request cut short.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface RawAnswer {
  /** The status of the first response, or 0 when none came. */
  status: number;
  /** Everything received until the server closed the connection. */
  text: string;
  /** True when the server closed the connection (not our time limit). */
  closedByServer: boolean;
}

/** Opens a connection to a loopback URL's port. */
export function connect(url: URL): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: Number(url.port) });
}

export async function send(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

/**
 * Reads until the server closes the connection or `limitMs` passes, then
 * closes it. The status is that of the first response line seen.
 */
export async function readUntilClosed(conn: Deno.Conn, limitMs: number): Promise<RawAnswer> {
  let text = "";
  let closedByServer = false;
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed already */ }
  }, limitMs);
  const buffer = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const read = await conn.read(buffer);
      if (read === null) {
        closedByServer = true;
        break;
      }
      text += decoder.decode(buffer.subarray(0, read));
    }
  } catch {
    // Closed by our own timer (BadResource), or reset by the server.
  } finally {
    clearTimeout(timer);
  }
  if (closedByServer) conn.close();
  const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  return { status, text, closedByServer };
}

/**
 * Reads one whole response (headers and a Content-Length body), or what came
 * before `limitMs` or the server closing; the connection is left open.
 */
export async function readResponse(conn: Deno.Conn, limitMs: number): Promise<RawAnswer> {
  let text = "";
  let closedByServer = false;
  const buffer = new Uint8Array(16 * 1024);
  const deadline = Date.now() + limitMs;
  const complete = () => {
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const length = Number(text.slice(0, end).match(/\r\ncontent-length: *(\d+)/i)?.[1] ?? 0);
    return text.length - end - 4 >= length;
  };
  while (!complete() && Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = await Promise.race([
      conn.read(buffer),
      new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), deadline - Date.now())
      ),
    ]).finally(() => clearTimeout(timer));
    if (read === "late") break;
    if (read === null) {
      closedByServer = true;
      break;
    }
    text += decoder.decode(buffer.subarray(0, read));
  }
  const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  return { status, text, closedByServer };
}

/** Sends one request and waits for the server to answer and close (or `limitMs`). */
export async function exchange(url: URL, request: string, limitMs = 5000): Promise<RawAnswer> {
  const conn = await connect(url);
  await send(conn, request);
  return await readUntilClosed(conn, limitMs);
}
