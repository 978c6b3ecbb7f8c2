/**
 * The one place that writes to the console: one JSON object per line, with
 * every string redacted on the way out, whatever the caller passed in.
 */

import { createRedactor } from "./redact.ts";
import { createLineBuilder, EMPTY_CONTEXT, type LogContext, type LogFields } from "./log_line.ts";

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
  /** Where finished lines go; stdout by default, an array in tests. */
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const builder = createLineBuilder(createRedactor(options.secrets ?? []));
  const now = options.now;
  const time = now ? () => now().toISOString() : currentTime;
  const write = options.write ?? writeToStdout;

  const build = (context: LogContext): Logger => {
    const at = (level: LogLevel) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return () => {};
      return (message: string, fields?: LogFields) =>
        write(builder.line(time(), level, message, context, fields));
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (fields) => build(builder.context(context, fields)),
    };
  };
  return build(EMPTY_CONTEXT);
}

/** A logger that drops everything, for code paths where logging is not the point. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });

let lastMs = NaN;
let lastTime = "";

/** The ISO time, formatted once per millisecond however many lines share it. */
function currentTime(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = new Date(ms).toISOString();
  }
  return lastTime;
}

const encoder = new TextEncoder();

function writeToStdout(line: string): void {
  // Synchronous writes keep lines whole and in order; a pipe may take a line in parts.
  let bytes = encoder.encode(line + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}
