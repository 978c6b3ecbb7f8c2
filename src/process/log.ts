/**
 * The one place that writes to the console: one JSON object per line, with
 * every string redacted on the way out, whatever the caller passed in.
 */

import { createRedactor, type Redactor } from "./redact.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = typeof LOG_LEVELS[number];

export type LogFields = Record<string, unknown>;

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
  /** Where finished lines go; stdout by default, an array in tests. */
  write?: (line: string) => void;
  now?: () => Date;
}

const MAX_CAUSE_DEPTH = 5;

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const redact = createRedactor(options.secrets ?? []);
  const write = options.write ?? writeToStdout;
  const now = options.now ?? (() => new Date());

  const build = (context: LogFields): Logger => {
    const log = (level: LogLevel, message: string, fields: LogFields = {}) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const entry = { time: now().toISOString(), level, msg: message, ...context, ...fields };
      write(JSON.stringify(toLoggable(entry, redact, 0)));
    };
    return {
      debug: (message, fields) => log("debug", message, fields),
      info: (message, fields) => log("info", message, fields),
      warn: (message, fields) => log("warn", message, fields),
      error: (message, fields) => log("error", message, fields),
      child: (fields) => build({ ...context, ...fields }),
    };
  };
  return build({});
}

/** A logger that drops everything, for code paths where logging is not the point. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });

/** Turns any value into plain JSON data with every string redacted. */
function toLoggable(value: unknown, redact: Redactor, depth: number): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) return describeError(value, redact, depth);
  if (value instanceof URL) return redact(value.href);
  if (Array.isArray(value)) return value.map((item) => toLoggable(item, redact, depth));
  if (value !== null && typeof value === "object") {
    // A plain loop: this runs for every field of every access log line.
    const plain: Record<string, unknown> = {};
    for (const key in value) {
      if (Object.hasOwn(value, key)) {
        plain[key] = toLoggable((value as Record<string, unknown>)[key], redact, depth);
      }
    }
    return plain;
  }
  return value;
}

function describeError(error: Error, redact: Redactor, depth: number): unknown {
  const described: Record<string, unknown> = { name: error.name, message: redact(error.message) };
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    described.cause = toLoggable(error.cause, redact, depth + 1);
  }
  return described;
}

const encoder = new TextEncoder();

function writeToStdout(line: string): void {
  // Synchronous writes keep lines whole and in order; a pipe may take a line in parts.
  let bytes = encoder.encode(line + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}
