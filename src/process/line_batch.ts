/**
 * Log lines on their way to stdout, written in batches.
 *
 * One synchronous write per line cost more than building the line under load
 * (the access log writes one per request). Lines are encoded into one buffer
 * instead and written out together, synchronously as before, so they stay
 * whole and in order:
 * - within `FLUSH_AFTER_MS` of being logged (one timer at a time, armed by
 *   the first line it finds unwritten, unref'd: it never keeps the process
 *   alive, and an idle process arms none);
 * - at once when the next line does not fit in the `BATCH_BYTES` buffer;
 * - when the caller asks (`flush()`): error lines, graceful shutdown.
 *
 * For stdout (`stdoutBatch()`), whatever is held is also written when the
 * process ends: on `unload` (a normal end and `Deno.exit`, which dispatches it
 * on every supported Deno), and on `error` and `unhandledrejection` (an
 * uncaught exception or rejection, which end the process without `unload`),
 * before Deno prints the error. During those events every further line is
 * written at once, so a handler that logs the crash itself loses nothing.
 *
 * What can be lost: only a hard end that runs no JavaScript (SIGKILL, the
 * OOM killer, a crash of the runtime itself, a signal the process has no
 * listener for yet) loses the lines still held: never more than `BATCH_BYTES`
 * of them, logged within the last `FLUSH_AFTER_MS` (or, if something blocked
 * the event loop for longer, since it was last free).
 *
 * Behaviour checked on Deno 2.5.0 and 2.9.6 (tests/process/log_flush_test.ts
 * runs on the Deno in DENO_BIN). Deno 2.5's test sanitizer reports a pending
 * batch timer even though it is unref'd (2.9's does not): a test that logs to
 * stdout in-process ends with `flushLogs()`, which clears it. Tests that pass
 * `write` never arm one.
 */

import { setBackgroundTimeout, type TimerId } from "./timeout.ts";

/** How long a line may wait for others before it is written. */
export const FLUSH_AFTER_MS = 5;
/** The buffer's size: a batch that might not fit is written first. */
export const BATCH_BYTES = 64 * 1024;

const NEWLINE = 10;

export interface LineBatch {
  /** Holds `line` (without its newline) until the batch is written. */
  add(line: string): void;
  /** Writes every line held, now. */
  flush(): void;
  /** While true, every line is written as it is added (the process is ending). */
  writeThrough: boolean;
}

export interface LineBatchOptions {
  /** Writes all of `bytes`, synchronously. */
  writeAll(bytes: Uint8Array): void;
  batchBytes?: number;
  flushAfterMs?: number;
}

const encoder = new TextEncoder();

export function createLineBatch(options: LineBatchOptions): LineBatch {
  const capacity = options.batchBytes ?? BATCH_BYTES;
  const flushAfterMs = options.flushAfterMs ?? FLUSH_AFTER_MS;
  const buffer = new Uint8Array(capacity);
  let used = 0;
  let timer: TimerId | undefined;

  /** Writes the lines held; the timer, if armed, stays (it finds a newer batch or none). */
  const writeHeld = () => {
    if (used === 0) return;
    const bytes = buffer.subarray(0, used);
    used = 0;
    options.writeAll(bytes);
  };
  const onTimer = () => {
    timer = undefined;
    writeHeld();
  };
  /** Encodes `line` and its newline after what is held; false when they do not fit. */
  const append = (line: string): boolean => {
    const { read, written } = encoder.encodeInto(line, buffer.subarray(used));
    if (read < line.length || used + written >= capacity) return false;
    used += written;
    buffer[used++] = NEWLINE;
    return true;
  };

  const batch: LineBatch = {
    writeThrough: false,
    add(line) {
      if (!append(line)) {
        // A full batch is written now; the line starts the next one. (The
        // timer is left as it is: re-arming a Node-style timer on every full
        // batch cost more than the lines' encoding.)
        writeHeld();
        if (!append(line)) {
          // Too long for any batch: written on its own, after what came before it.
          options.writeAll(encoder.encode(line + "\n"));
          return;
        }
      }
      if (batch.writeThrough) batch.flush();
      else if (timer === undefined) {
        timer = setBackgroundTimeout(onTimer, flushAfterMs);
      }
    },
    flush() {
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      writeHeld();
    },
  };
  return batch;
}

let stdout: LineBatch | undefined;

/** The process's one batch for stdout, written out before the process ends. */
export function stdoutBatch(): LineBatch {
  if (stdout !== undefined) return stdout;
  const batch = stdout = createLineBatch({ writeAll: writeAllToStdout });
  let ending = false;
  globalThis.addEventListener("unload", () => {
    batch.flush();
    batch.writeThrough = ending = true; // No timer runs after unload.
  });
  const onFatal = () => {
    batch.flush();
    // Other listeners of this event may log the crash: those lines go at once.
    // Should a listener keep the process alive, batching resumes after it.
    batch.writeThrough = true;
    queueMicrotask(() => batch.writeThrough = ending);
  };
  globalThis.addEventListener("error", onFatal);
  globalThis.addEventListener("unhandledrejection", onFatal);
  return batch;
}

/** Writes whatever the stdout batch holds, now (a no-op when nothing used it). */
export function flushStdout(): void {
  stdout?.flush();
}

function writeAllToStdout(bytes: Uint8Array): void {
  // A pipe may take a write in parts.
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}
