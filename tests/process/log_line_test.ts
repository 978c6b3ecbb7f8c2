/**
 * The logger's lines and its redactor's shortcut are held, byte for byte, to
 * plain algorithms kept here as the reference:
 * `JSON.stringify(toLoggable({ time, level, msg, ...context, ...fields }))`
 * and one regular expression over every string.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger, type LogFields, type Logger, type LogLevel } from "../../src/process/log.ts";
import { createRedactor } from "../../src/process/redact.ts";

// ---- The reference. ----

const CREDENTIAL_QUERY_PARAMETER = String
  .raw`(?<=[?&](?:appid|api_key|apikey|key|token|access_token|client_secret)=)[^&\s#"')]*`;
const URL_QUERY_VALUE = String
  .raw`(?<=\bhttps?://[^\s?#"'<>]*\?(?:[^\s#"'<>]*&)?[^\s=&#"'<>]*=)[^&\s#"'<>)]*`;

function referenceRedactor(secrets: readonly string[]): (text: string) => string {
  const needles = [...new Set(secrets.flatMap((secret) => [secret, encodeURIComponent(secret)]))]
    .filter((needle) => needle.length > 0)
    .sort((a, b) => b.length - a.length);
  const pattern = new RegExp(
    [
      ...needles.map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
      CREDENTIAL_QUERY_PARAMETER,
      URL_QUERY_VALUE,
    ].join("|"),
    "gi",
  );
  return (text) => text.replace(pattern, (match) => match === "" ? match : "[REDACTED]");
}

type Redactor = (text: string) => string;

function referenceLogger(level: LogLevel, secrets: string[], now: () => Date) {
  const levels = ["debug", "info", "warn", "error"];
  const lines: string[] = [];
  const redact = referenceRedactor(secrets);
  const build = (context: LogFields): Logger => {
    const log = (level: LogLevel, message: string, fields: LogFields = {}) => {
      if (levels.indexOf(level) < threshold) return;
      const entry = { time: now().toISOString(), level, msg: message, ...context, ...fields };
      lines.push(JSON.stringify(toLoggable(entry, redact, 0)));
    };
    return {
      debug: (message, fields) => log("debug", message, fields),
      info: (message, fields) => log("info", message, fields),
      warn: (message, fields) => log("warn", message, fields),
      error: (message, fields) => log("error", message, fields),
      child: (fields) => build({ ...context, ...fields }),
    };
  };
  const threshold = levels.indexOf(level);
  return { logger: build({}), lines };
}

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
  if (error.cause !== undefined && depth < 5) {
    described.cause = toLoggable(error.cause, redact, depth + 1);
  }
  return described;
}

// ---- Generators: secrets, and text that hides them in every way the redactor knows. ----

const secretArbitrary = fc.oneof(
  fc.string({ minLength: 1, maxLength: 10 }),
  fc.constantFrom("s3cr3t/key+with=chars", "API_KEY_123", "a&b c", "ключ-Ä", "info", "2026"),
);

function textArbitrary(secrets: string[]): fc.Arbitrary<string> {
  const hidden = secrets.length === 0 ? ["nothing-secret"] : secrets.flatMap((secret) => [
    secret,
    encodeURIComponent(secret),
    secret.toUpperCase(),
  ]);
  return fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: "grapheme", maxLength: 10 }),
    fc.constantFrom("request", "POST", "/data-action/weather", "hit", ""),
    fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom(...hidden), fc.string({ maxLength: 6 }))
      .map((parts) => parts.join("")),
    fc.tuple(
      fc.constantFrom(
        "https://h.test/p?",
        "http://x/?q=1&",
        "GET /x?appid=",
        "&token=",
        "key=",
        "=",
      ),
      fc.constantFrom(...hidden, "value", ""),
      fc.constantFrom("", "&units=metric", "#frag", ") refused", " next"),
    ).map((parts) => parts.join("")),
  );
}

const keyArbitrary = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    "time",
    "level",
    "msg",
    "__proto__",
    "toJSON",
    "0",
    "7",
    "12a",
    "",
    "constructor",
  ),
  fc.constantFrom("correlation_id", "status", "method", "path", "cache", "error"),
);

/** An object built as JSON.parse would: every key its own property, `__proto__` included. */
function objectArbitrary(value: fc.Arbitrary<unknown>): fc.Arbitrary<LogFields> {
  return fc.array(fc.tuple(keyArbitrary, value), { maxLength: 6 }).map((entries) =>
    Object.fromEntries(entries)
  );
}

function valueArbitraries(secrets: string[]) {
  const text = textArbitrary(secrets);
  const primitive = fc.oneof(
    { weight: 4, arbitrary: text },
    { weight: 2, arbitrary: fc.integer() },
    { weight: 2, arbitrary: fc.double() },
    fc.constantFrom(NaN, -0, Infinity, -Infinity, 1e21, 1.5e-7),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { weight: 6, arbitrary: primitive },
      fc.array(tie("value"), { maxLength: 3 }),
      objectArbitrary(tie("value")),
      fc.tuple(fc.constantFrom(Error, TypeError), text, fc.option(tie("value"), { nil: undefined }))
        .map(([Type, message, cause]) =>
          cause === undefined ? new Type(message) : new Type(message, { cause })
        ),
      fc.tuple(fc.constantFrom(...secrets, "v"), fc.constantFrom("appid", "sig", "q"))
        .map(([secret, name]) =>
          new URL(`https://h.test/p?${name}=${encodeURIComponent(secret)}&units=metric`)
        ),
      fc.date(),
      fc.constantFrom(1n, () => "called", Symbol("s")),
    ),
  }));
  return {
    text,
    // Mostly what the access log passes (flat strings and numbers); sometimes anything.
    fields: fc.oneof(
      { weight: 3, arbitrary: objectArbitrary(primitive) },
      { weight: 1, arbitrary: objectArbitrary(value) },
    ),
  };
}

/** The line, or the name of what building it threw (a bigint cannot be JSON). */
function outcome(lines: string[], log: () => void): string {
  try {
    log();
    return lines.at(-1) ?? "(nothing)";
  } catch (error) {
    return `threw ${(error as Error).name}`;
  }
}

Deno.test("createRedactor() redacts exactly as the single regular expression did", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(secretArbitrary, { maxLength: 3 }).chain((secrets) =>
        fc.tuple(fc.constant(secrets), fc.array(textArbitrary(secrets), { maxLength: 5 }))
      ),
      ([secrets, texts]) => {
        const redact = createRedactor(secrets);
        const reference = referenceRedactor(secrets);
        for (const text of texts) assert.equal(redact(text), reference(text));
      },
    ),
    { numRuns: 1_000 },
  );
});

Deno.test("createLogger() writes exactly the line the reference algorithm writes", () => {
  const scenario = fc.uniqueArray(secretArbitrary, { maxLength: 3 }).chain((secrets) => {
    const { text, fields } = valueArbitraries(secrets);
    return fc.record({
      secrets: fc.constant(secrets),
      time: fc.date({ noInvalidDate: true }),
      contexts: fc.array(fields, { maxLength: 3 }),
      // Several lines per logger, each with the context's fields.
      calls: fc.array(
        fc.record({
          level: fc.constantFrom<LogLevel>("debug", "info", "warn", "error"),
          message: text,
          fields: fc.option(fields, { nil: undefined }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    });
  });
  fc.assert(
    fc.property(scenario, ({ secrets, time, contexts, calls }) => {
      const now = () => time;
      const lines: string[] = [];
      let logger = createLogger({
        level: "debug",
        secrets,
        now: () => time.getTime(),
        write: (line) => lines.push(line),
      });
      const reference = referenceLogger("debug", secrets, now);
      let expected = reference.logger;
      for (const context of contexts) {
        logger = logger.child(context);
        expected = expected.child(context);
      }
      for (const { level, message, fields } of calls) {
        assert.equal(
          outcome(lines, () => logger[level](message, fields)),
          outcome(reference.lines, () => expected[level](message, fields)),
        );
      }
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("createLogger() redacts with its own secrets whatever another logger wrote before", () => {
  const secret = "s3cret-value";
  const fields = { token: secret, status: 200 };
  // A logger that knows no secrets writes the same field first.
  createLogger({ level: "info", write: () => {} }).info("request", fields);
  const lines: string[] = [];
  createLogger({ level: "info", secrets: [secret], write: (line) => lines.push(line) })
    .info("request", fields);
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /s3cret-value/);
  assert.match(lines[0]!, /"token":"\[REDACTED\]"/);
});

Deno.test("createLogger() never writes a line over 4 KiB, and cuts text only once it is redacted", () => {
  const secret = "s3cret-ключ-value";
  /** Text up to 60,000 characters, any of them multi-byte, a secret anywhere in it. */
  const longText = fc.tuple(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }),
    fc.nat({ max: 15_000 }),
    fc.nat({ max: 15_000 }),
  ).map(([unit, before, after]) => unit.repeat(before) + secret + unit.repeat(after));
  const fields = fc.dictionary(
    fc.string({ maxLength: 12 }),
    fc.oneof(longText, fc.array(longText, { maxLength: 4 }), fc.integer()),
    { maxKeys: 12 },
  );
  fc.assert(
    fc.property(longText, fields, (message, fields) => {
      const lines: string[] = [];
      createLogger({ level: "info", secrets: [secret], write: (line) => lines.push(line) })
        .child({ correlation_id: "abc" }).info(message, fields);
      const [line] = lines;
      assert.ok(new TextEncoder().encode(line).byteLength <= 4096, `${line!.length} characters`);
      const entry = JSON.parse(line!);
      assert.equal(entry.level, "info");
      assert.ok(!line!.includes(secret) && !line!.includes(secret.slice(0, 8)), line);
    }),
    { numRuns: 200 },
  );
});

Deno.test("createLogger() keeps a short field whole beside a long one, and says how much was cut", () => {
  const lines: string[] = [];
  createLogger({ level: "info", write: (line) => lines.push(line) })
    .info("request", { method: "OTHER", path: `/${"x".repeat(65_000)}`, status: 404 });
  const entry = JSON.parse(lines[0]!);
  assert.equal(entry.method, "OTHER");
  assert.equal(entry.status, 404);
  assert.equal(entry.path, `/${"x".repeat(1023)}…(63977 more characters)`);
});
