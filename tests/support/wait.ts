/**
 * Waiting in tests. Every wait ends: with what was awaited, or with an error
 * that names it, so a broken test fails in seconds instead of hanging the
 * suite (Deno's test runner has no time limit of its own).
 */

/**
 * How long a test waits for something that should come promptly (a log line,
 * a listening port, a process exit, a server ready) before it fails: far
 * more than any of them takes, even on a shared 2-core machine running the
 * test files in parallel.
 */
export const WAIT_MS = 10_000;

/** What is awaited, for the error message; a function is asked only when the time is up. */
export type Awaited = string | (() => string);

/** Rejects with "Timed out after `ms` ms waiting for `what`" unless `promise` settles first. */
export function within<T>(ms: number, promise: Promise<T>, what: Awaited): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const described = typeof what === "function" ? what() : what;
      reject(new Error(`Timed out after ${ms} ms waiting for ${described}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface PollOptions {
  /** Give up after this long; WAIT_MS unless told. */
  timeoutMs?: number;
  /** Between attempts. */
  intervalMs?: number;
  /** An error that means it will never come (the server exited): thrown at once. */
  giveUpOn?: (error: unknown) => boolean;
}

/**
 * Calls `attempt` until it returns something other than undefined, and
 * returns that. An attempt that throws (a server not listening yet) counts as
 * "not yet"; the last error is quoted if the time runs out.
 */
export async function pollUntil<T>(
  what: string,
  attempt: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = WAIT_MS, intervalMs = 50, giveUpOn = () => false }: PollOptions = {},
): Promise<T> {
  const giveUpAt = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      // An attempt that hangs (a connection accepted and never answered) ends at the deadline.
      const remainingMs = Math.max(0, giveUpAt - performance.now());
      const result = await within(remainingMs, Promise.resolve(attempt()), what);
      if (result !== undefined) return result;
    } catch (error) {
      if (giveUpOn(error)) throw error;
      lastError = error;
    }
    if (performance.now() >= giveUpAt) {
      const detail = lastError === undefined ? "" : ` (last attempt: ${lastError})`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** fetch() that gives up after `ms` (headers and body), saying which request it waited for. */
export async function fetchWithin(
  input: URL | string,
  init: RequestInit = {},
  ms = WAIT_MS,
): Promise<Response> {
  try {
    return await fetch(input, { signal: AbortSignal.timeout(ms), ...init });
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      const request = `${init.method ?? "GET"} ${input}`;
      throw new Error(`Timed out after ${ms} ms waiting for the answer to ${request}`, {
        cause: error,
      });
    }
    throw error;
  }
}
