/**
 * Builds one log line: `{"time":…,"level":…,"msg":…,<context>,<fields>}`,
 * every string value redacted.
 *
 * The reference is `JSON.stringify(toLoggable({ time, level, msg, ...context,
 * ...fields }))`. That builds two objects per line and walks them; the access
 * log (one line per request) only carries strings and numbers, so the common
 * case writes the JSON text directly instead: the level's text is made once
 * per logger, a child's context (the correlation id) once per child, at its
 * first line, and each field is quoted in place. Whatever the direct path
 * cannot reproduce byte for byte falls back to the reference: object values
 * (errors, URLs, arrays, nested data), a key that repeats an earlier one (it
 * would overwrite in place), a key that JavaScript orders first (array
 * indices). tests/process/log_line_test.ts checks both agree on random fields.
 */

import type { Redactor } from "./redact.ts";

export type LogFields = Record<string, unknown>;

const MAX_CAUSE_DEPTH = 5;
/** Fields remembered per context (see WrittenContext.last): a line has a dozen at most. */
const MAX_REMEMBERED_FIELDS = 32;

/** A child logger's fields: merged at once, written out when its first line is. */
export interface LogContext {
  /** Every field, for the reference path. */
  readonly fields: LogFields;
  /** Set by the first line that uses this context. */
  written?: WrittenContext;
}

interface WrittenContext {
  /** The fields' keys and the three every line starts with: a field reusing one takes the reference path. */
  readonly keys: readonly string[];
  /** `,"key":value` for each field, or undefined when the fields need the reference path. */
  readonly json: string | undefined;
  /**
   * The last line's fields in this context, by position: the access log
   * writes the same keys in the same order on every line, most with the
   * value they had on the line before, and such a field is written again
   * without looking anything up, redacting or concatenating.
   */
  readonly last: Written[];
}

/** One field as a line wrote it: its key (already checked), value and `,"key":value`. */
interface Written {
  key: string;
  value: string | number;
  json: string;
}

const LINE_KEYS = ["time", "level", "msg"] as const;

export interface LineBuilder {
  /**
   * The context of a logger without fields. Each builder has its own: what a
   * context remembers of its last line was redacted with this builder's
   * secrets, and must never be written by a logger with other secrets.
   */
  readonly root: LogContext;
  /** `{"time":…,"level":…,"msg":…,…}` without a newline. */
  line(
    time: string,
    level: string,
    message: string,
    context: LogContext,
    fields?: LogFields,
  ): string;
  /** The context of a child: `parent`'s fields, then `fields` (a later key overrides in place). */
  context(parent: LogContext, fields: LogFields): LogContext;
}

export function createLineBuilder(redact: Redactor): LineBuilder {
  // The level is a string of the line like any other: redacted too (once).
  const levelJson = new Map<string, string>();
  const levelText = (level: string): string => {
    let json = levelJson.get(level);
    if (json === undefined) levelJson.set(level, json = JSON.stringify(redact(level)));
    return json;
  };

  const quotedKeys = new Map<string, string>();
  const quoted = (key: string): string => {
    let json = quotedKeys.get(key);
    if (json === undefined) {
      json = JSON.stringify(key);
      if (quotedKeys.size < 1000) quotedKeys.set(key, json);
    }
    return json;
  };

  const valueJson = (value: string | number): string =>
    typeof value === "string"
      ? JSON.stringify(redact(value))
      : Number.isFinite(value)
      ? String(value)
      : "null";
  // The line's own three: the time repeats within a millisecond, the message often.
  let lastTime = { text: "", json: '""' };
  let lastMessage = { text: "", json: '""' };
  const timeJson = (time: string): string =>
    lastTime.text === time
      ? lastTime.json
      : (lastTime = { text: time, json: valueJson(time) }).json;
  const messageJson = (message: string): string =>
    lastMessage.text === message
      ? lastMessage.json
      : (lastMessage = { text: message, json: valueJson(message) }).json;

  /** `,"key":value` for every field, or undefined when one needs the reference path. */
  const fieldsJson = (
    fields: LogFields,
    taken: readonly string[],
    last: Written[] = [],
  ): string | undefined => {
    let json = "";
    let position = 0;
    for (const key in fields) {
      if (!Object.hasOwn(fields, key)) continue;
      const value = fields[key];
      const before = last[position];
      if (before !== undefined && before.key === key && before.value === value) {
        // -0 equals a remembered 0 here, and prints the same ("0").
        json += before.json;
        position++;
        continue;
      }
      if (!isPlainKey(key) || taken.includes(key)) return undefined;
      switch (typeof value) {
        case "string":
        case "number": {
          const field = "," + quoted(key) + ":" + valueJson(value);
          if (before !== undefined) {
            before.key = key;
            before.value = value;
            before.json = field;
          } else if (position === last.length && position < MAX_REMEMBERED_FIELDS) {
            last.push({ key, value, json: field });
          }
          json += field;
          break;
        }
        case "boolean":
          json += "," + quoted(key) + (value ? ":true" : ":false");
          break;
        case "undefined":
          break; // JSON.stringify leaves the key out.
        default:
          if (value !== null) return undefined; // Objects, functions, symbols, bigints.
          json += "," + quoted(key) + ":null";
      }
      position++;
    }
    return json;
  };

  const writeContext = (fields: LogFields): WrittenContext => {
    const json = fieldsJson(fields, LINE_KEYS);
    return {
      keys: json === undefined ? LINE_KEYS : [...LINE_KEYS, ...Object.keys(fields)],
      json,
      last: [],
    };
  };

  return {
    root: { fields: {}, written: { keys: LINE_KEYS, json: "", last: [] } },
    line(time, level, message, context, fields) {
      // Written out once per context, not once per line; not at all if it logs nothing.
      const written = context.written ??= writeContext(context.fields);
      if (written.json !== undefined && typeof message === "string") {
        const json = fields === undefined ? "" : fieldsJson(fields, written.keys, written.last);
        if (json !== undefined) {
          return '{"time":' + timeJson(time) + ',"level":' + levelText(level) + ',"msg":' +
            messageJson(message) + written.json + json + "}";
        }
      }
      return referenceLine(redact, time, level, message, context.fields, fields);
    },
    // One object per child (one per request): nothing is redacted or written until a line is.
    context: (parent, fields) => ({ fields: { ...parent.fields, ...fields } }),
  };
}

/**
 * A key the direct path writes where the reference would: objects list array
 * indices first, before `time`, so any key starting with a digit takes the
 * reference path (which is always right). (`__proto__` is an ordinary key in
 * Deno, and `toJSON` only matters when it is a function, which takes the
 * reference path anyway.)
 */
function isPlainKey(key: string): boolean {
  const first = key.charCodeAt(0);
  return first < 48 || first > 57;
}

/** The reference: what every line is, whatever path wrote it. */
export function referenceLine(
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
