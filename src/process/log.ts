/**
 * The one place that writes to the console: one JSON object per line, with
 * every string redacted on the way out, whatever the caller passed in.
 *
 * Lines for stdout are written in batches (line_batch.ts), whole and in
 * order: `FLUSH_AFTER_MS` (5 ms) after the first line of a batch, as soon as a
 * batch nears `BATCH_BYTES` (64 KiB), and at once for an `error` line (with
 * every line before it). `flushLogs()` writes what is held: graceful shutdown
 * calls it, and the end of the process does too (the event loop running out,
 * `Deno.exit`, an uncaught exception or unhandled rejection). Only an end
 * that runs no JavaScript loses lines (SIGKILL, the OOM killer, a crash of the
 * runtime, a signal during start-up before the service listens for it):
 * never more than 64 KiB of them, logged within the last 5 ms (longer only if
 * something blocked the event loop).
 */

import { createRedactor } from "./redact.ts";
import { formatLine, type LogFields } from "./log_line.ts";
import { flushStdout, stdoutBatch } from "./line_batch.ts";

export type { LogFields } from "./log_line.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line, e.g. a request's correlation id. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Values that must never appear in a log line (API keys, client secrets, ...). */
  secrets?: readonly string[];
  /**
   * Where finished lines go, one call per line as it is logged (an array in
   * tests). Without it, lines go to stdout in batches.
   */
  write?: (line: string) => void;
  /** Milliseconds since the epoch, for each line's `time`. */
  now?: () => number;
}

/** Writes every log line still held for stdout, now: before the process ends. */
export function flushLogs(): void {
  flushStdout();
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const redact = createRedactor(options.secrets ?? []);
  const timeOfLine = isoTimeOnceAMillisecond(options.now ?? Date.now);
  let write: (line: string, urgent: boolean) => void;
  if (options.write) {
    const writeLine = options.write;
    write = (line) => writeLine(line);
  } else {
    const batch = stdoutBatch();
    write = (line, urgent) => {
      batch.add(line);
      // An error may be the last thing the process says: it goes now, with all before it.
      if (urgent) batch.flush();
    };
  }

  const build = (context: LogFields): Logger => {
    const at = (level: LogLevel) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return () => {};
      const urgent = level === "error";
      return (message: string, fields?: LogFields) =>
        write(formatLine(redact, timeOfLine(), level, message, context, fields), urgent);
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (fields) => build({ ...context, ...fields }),
    };
  };
  return build({});
}

/** A logger that drops everything, for code paths where logging is not the point. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });

/**
 * The current time as ISO 8601 text, formatted at most once a millisecond:
 * `toISOString()` costs about 1 µs, more than the rest of an access-log line.
 */
function isoTimeOnceAMillisecond(now: () => number): () => string {
  let formattedMs = NaN;
  let formatted = "";
  return () => {
    const ms = now();
    if (ms !== formattedMs) {
      formattedMs = ms;
      formatted = new Date(ms).toISOString();
    }
    return formatted;
  };
}
