/**
 * Builds one log line: `{"time":…,"level":…,"msg":…,<context>,<fields>}`,
 * every string in it redacted, errors written as their name, message and
 * causes, URLs as text.
 */

import type { Redactor } from "./redact.ts";

export type LogFields = Record<string, unknown>;

/** How many causes of an error are written: a cycle of causes must not loop. */
const MAX_CAUSE_DEPTH = 5;

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
  return JSON.stringify(toLoggable(entry, redact, 0));
}

/** Turns any value into plain JSON data with every string redacted. */
function toLoggable(value: unknown, redact: Redactor, depth: number): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) return describeError(value, redact, depth);
  if (value instanceof URL) return redact(value.href);
  if (Array.isArray(value)) return value.map((item) => toLoggable(item, redact, depth));
  if (value !== null && typeof value === "object") {
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
