/**
 * Builds one log line: `{"time":…,"level":…,"msg":…,<context>,<fields>}`,
 * every string in it redacted, errors written as their name, message and
 * causes, URLs as text, and the whole at most MAX_LINE_BYTES.
 */

import type { Redactor } from "./redact.ts";
import { fitsInUtf8 } from "./utf8.ts";

export type LogFields = Record<string, unknown>;

/** How many causes of an error are written: a cycle of causes must not loop. */
const MAX_CAUSE_DEPTH = 5;

/**
 * The longest line written, in bytes: a caller's text (an unmatched path, a
 * header echoed in an error) can be as long as Deno lets a request be, and
 * Docker's json-file driver splits lines at 16 KiB.
 */
export const MAX_LINE_BYTES = 4096;

/** Strings are cut to this many characters first, and to the second if the line is still too long. */
const STRING_LIMITS = [1024, 128] as const;

/** `{"time":…,"level":…,"msg":…,…}` without a newline; a later key overrides an earlier one. */
export function formatLine(
  redact: Redactor,
  time: string,
  level: string,
  message: string,
  context: LogFields,
  fields: LogFields = {},
): string {
  const entry = { time, level, msg: message, ...context, ...fields };
  for (const maxLength of STRING_LIMITS) {
    const line = JSON.stringify(toLoggable(entry, { redact, maxLength }, 0));
    if (fitsInUtf8(line, MAX_LINE_BYTES)) return line;
  }
  // Too many fields even so (no line the service writes has them): the line says what it was.
  const shortened = { time, level, msg: message, truncated: true };
  return JSON.stringify(toLoggable(shortened, { redact, maxLength: STRING_LIMITS[1] }, 0));
}

interface Conversion {
  redact: Redactor;
  maxLength: number;
}

/** Turns any value into plain JSON data with every string redacted, then cut to length. */
function toLoggable(value: unknown, conversion: Conversion, depth: number): unknown {
  if (typeof value === "string") return cut(conversion.redact(value), conversion.maxLength);
  if (value instanceof Error) return describeError(value, conversion, depth);
  if (value instanceof URL) return toLoggable(value.href, conversion, depth);
  if (Array.isArray(value)) return value.map((item) => toLoggable(item, conversion, depth));
  if (value !== null && typeof value === "object") {
    const plain: Record<string, unknown> = {};
    for (const key in value) {
      if (Object.hasOwn(value, key)) {
        plain[key] = toLoggable((value as Record<string, unknown>)[key], conversion, depth);
      }
    }
    return plain;
  }
  return value;
}

/** Redacted first, then cut: a cut never leaves part of a secret the redactor would not know. */
function cut(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  // Not in the middle of a surrogate pair, which would leave a lone half.
  const end = /[\uD800-\uDBFF]/.test(text[maxLength - 1]!) ? maxLength - 1 : maxLength;
  return `${text.slice(0, end)}…(${text.length - end} more characters)`;
}

function describeError(error: Error, conversion: Conversion, depth: number): unknown {
  const described: Record<string, unknown> = {
    name: error.name,
    message: toLoggable(error.message, conversion, depth),
  };
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    described.cause = toLoggable(error.cause, conversion, depth + 1);
  }
  return described;
}
