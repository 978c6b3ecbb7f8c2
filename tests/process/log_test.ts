import assert from "node:assert/strict";
import { createLogger } from "../../src/process/log.ts";
import { createRedactor, REDACTED, redactUrl } from "../../src/process/redact.ts";

const SECRET = "s3cr3t/key+with=chars";
const fixedClock = () => Date.parse("2026-01-02T03:04:05.000Z");

function capture(level: "debug" | "info" | "warn" | "error" = "debug") {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    secrets: [SECRET],
    write: (line) => lines.push(line),
    now: fixedClock,
  });
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line)) };
}

Deno.test("createLogger() writes one JSON object per line", () => {
  const { logger, lines, entries } = capture();
  logger.info("hello", { count: 2 });
  assert.equal(lines.length, 1);
  assert.deepEqual(entries()[0], {
    time: "2026-01-02T03:04:05.000Z",
    level: "info",
    msg: "hello",
    count: 2,
  });
});

Deno.test("createLogger() stamps each line with the clock's time to the millisecond", () => {
  let clock = Date.parse("2026-01-02T03:04:05.000Z");
  const lines: string[] = [];
  const logger = createLogger({
    level: "info",
    write: (line) => lines.push(line),
    now: () => clock,
  });
  logger.info("first");
  logger.info("same millisecond");
  clock += 1;
  logger.info("one millisecond later");
  clock += 86_400_000;
  logger.info("a day later");
  assert.deepEqual(lines.map((line) => JSON.parse(line).time), [
    "2026-01-02T03:04:05.000Z",
    "2026-01-02T03:04:05.000Z",
    "2026-01-02T03:04:05.001Z",
    "2026-01-03T03:04:05.001Z",
  ]);
});

Deno.test("createLogger() drops lines below its level", () => {
  const { logger, entries } = capture("warn");
  logger.debug("a");
  logger.info("b");
  logger.warn("c");
  logger.error("d");
  assert.deepEqual(entries().map((entry) => entry.msg), ["c", "d"]);
});

Deno.test("createLogger() child loggers add their fields to every line", () => {
  const { logger, entries } = capture();
  logger.child({ correlation_id: "abc" }).child({ step: 1 }).warn("x", { extra: true });
  assert.deepEqual(entries()[0], {
    time: "2026-01-02T03:04:05.000Z",
    level: "warn",
    msg: "x",
    correlation_id: "abc",
    step: 1,
    extra: true,
  });
});

Deno.test("createLogger() redacts secrets wherever they hide", () => {
  const { logger, lines, entries } = capture();
  const nested = new Error("outer", {
    cause: new TypeError(
      `error sending request for url (http://h/?q=x&appid=${encodeURIComponent(SECRET)})`,
    ),
  });
  logger.error(`message with ${SECRET}`, {
    error: nested,
    url: new URL(`http://h/?appid=${SECRET}`),
    list: [SECRET],
    deep: { deeper: `x${SECRET}y` },
  });
  const text = lines.join("\n");
  assert.ok(!text.includes(SECRET));
  assert.ok(!text.includes(encodeURIComponent(SECRET)));
  const entry = entries()[0];
  assert.equal(entry.msg, `message with ${REDACTED}`);
  assert.deepEqual(entry.error, {
    name: "Error",
    message: "outer",
    cause: {
      name: "TypeError",
      // Every query value of a URL goes, not only the credential's.
      message: `error sending request for url (http://h/?q=${REDACTED}&appid=${REDACTED})`,
    },
  });
  assert.deepEqual(entry.deep, { deeper: `x${REDACTED}y` });
});

Deno.test("createRedactor() removes credential query parameters it was not told about", () => {
  const redact = createRedactor([]);
  assert.equal(
    redact("GET /x?q=London&appid=unknownkey&units=metric"),
    `GET /x?q=London&appid=${REDACTED}&units=metric`,
  );
  assert.equal(redact("https://h/?access_token=abc.def"), `https://h/?access_token=${REDACTED}`);
  assert.equal(redact("nothing to hide"), "nothing to hide");
});

Deno.test("createRedactor() removes every query value of any URL inside a text", () => {
  const redact = createRedactor([]);
  assert.equal(
    redact("error sending request for url (https://idp.test/keys?sig=SAS&sv=2024): refused"),
    `error sending request for url (https://idp.test/keys?sig=${REDACTED}&sv=${REDACTED}): refused`,
  );
  assert.equal(redact("https://h/p?flag&x=1#frag"), `https://h/p?flag&x=${REDACTED}#frag`);
  assert.equal(redact("https://h/path/only"), "https://h/path/only");
});

Deno.test("redactUrl() keeps origin, path and parameter names only", () => {
  assert.equal(
    redactUrl(new URL("https://u:p@idp.test:8443/jwks.json?sig=abc&sv=2024#x")),
    `https://idp.test:8443/jwks.json?sig=${REDACTED}&sv=${REDACTED}`,
  );
  assert.equal(redactUrl("https://idp.test/jwks.json"), "https://idp.test/jwks.json");
  assert.equal(redactUrl("not a url"), REDACTED);
});
