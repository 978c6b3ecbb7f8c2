/**
 * What a hostile request line can do, sent by hand over a socket: methods
 * named like Object.prototype's members, request targets in absolute form
 * whose authority is not a host name, and text long enough to blow up a log
 * line.
 */

import assert from "node:assert/strict";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { exchange } from "../support/raw_http.ts";
import { startService } from "../support/service.ts";
import { fetchWithin } from "../support/wait.ts";

const BUILT_IN_OAUTH = {
  AUTH_MODE: "jwt",
  OAUTH_CLIENT_ID: "genesys-cloud",
  OAUTH_CLIENT_SECRET: "a-long-client-secret",
  PUBLIC_URL: "https://weather.example.test/",
};

const ROUTES = {
  "/data-action/weather": "POST",
  "/data-action/forecast": "POST",
  "/healthz": "GET, HEAD",
  "/readyz": "GET, HEAD",
  "/metrics": "GET",
  "/oauth/token": "POST",
};

/** Names Object.prototype has: looked up in a plain object, each would find a function. */
const PROTOTYPE_NAMES = [
  "toString",
  "valueOf",
  "hasOwnProperty",
  "constructor",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__proto__",
  "__defineGetter__",
  "__lookupGetter__",
];

async function startWithUpstream() {
  const upstream = startFakeOpenWeather();
  const service = await startService({
    ...BUILT_IN_OAUTH,
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  return {
    service,
    async [Symbol.asyncDispose]() {
      await service.close();
      await upstream.close();
    },
  };
}

const accessLog = (logLines: string[]) =>
  logLines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "request");

Deno.test("a method named like an Object.prototype member gets 405 with Allow, on every route", async (t) => {
  await using running = await startWithUpstream();
  const { service } = running;
  for (const [path, allow] of Object.entries(ROUTES)) {
    await t.step(path, async () => {
      for (const method of PROTOTYPE_NAMES) {
        const answer = await exchange(
          service.url,
          `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
        );
        assert.equal(answer.status, 405, `${method} ${path}: ${answer.text}`);
        assert.match(answer.text, new RegExp(`\r\nallow: ${allow}\r\n`, "i"), method);
        assert.match(answer.text, /"error_code":"METHOD_NOT_ALLOWED"/, method);
      }
    });
  }
  await t.step("no error line; the access log and the metrics say OTHER", async () => {
    const entries = service.logLines.map((line) => JSON.parse(line));
    assert.deepEqual(entries.filter((entry) => entry.level === "error"), []);
    const methods = new Set(accessLog(service.logLines).map((entry) => entry.method));
    assert.deepEqual([...methods], ["OTHER"]);
    const metrics = await (await fetchWithin(new URL("/metrics", service.url))).text();
    assert.doesNotMatch(metrics, /status="undefined"/);
    assert.match(
      metrics,
      /http_requests_total\{route="\/healthz",method="OTHER",status="405"\} 10/,
    );
  });
});

Deno.test("a request target in absolute form is routed by its real path, never by its authority", async (t) => {
  await using running = await startWithUpstream();
  const { service } = running;
  const get = (target: string) =>
    exchange(service.url, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  for (
    const target of [
      "http://a?b/metrics",
      "http://a#/metrics",
      "http://a\\@b/metrics",
      "http://a@b/metrics",
      "http://a%2f/metrics",
    ]
  ) {
    await t.step(`GET ${target} is 400 INVALID_HOST, not the metrics`, async () => {
      const answer = await get(target);
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.text, /"error_code":"INVALID_HOST"/);
      assert.doesNotMatch(answer.text, /# HELP/);
    });
  }
  await t.step("a host name in the authority: the target's own path is served", async () => {
    const health = await get("http://weather.example.test/healthz");
    assert.equal(health.status, 200, health.text);
    assert.match(health.text, /\{"status":"ok"\}/);
    const dotted = await get("http://weather.example.test:8080/x/../healthz?a=/metrics");
    assert.equal(dotted.status, 200, dotted.text);
    assert.match(dotted.text, /\{"status":"ok"\}/);
  });
  await t.step("the access log never records a path taken from an authority", () => {
    const paths = accessLog(service.logLines).map((entry) => entry.path);
    assert.ok(!paths.includes("/metrics"), JSON.stringify(paths));
  });
});

Deno.test("one request never writes an access-log line over 4 KiB", async (t) => {
  await using running = await startWithUpstream();
  const { service } = running;
  const longPath = `/${"a".repeat(65_000)}`;
  const longMethod = "X".repeat(8_000);
  const cases = [
    { name: "a 65 KB unmatched path", line: `GET ${longPath}`, status: 404 },
    { name: "an 8 KB method", line: `${longMethod} /healthz`, status: 405 },
  ];
  for (const { name, line, status } of cases) {
    await t.step(name, async () => {
      const written = service.logLines.length;
      const answer = await exchange(
        service.url,
        `${line} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(answer.status, status, answer.text.slice(0, 200));
      const lines = service.logLines.slice(written);
      assert.ok(lines.length > 0, "the request was logged");
      for (const logged of lines) {
        assert.ok(
          new TextEncoder().encode(logged).byteLength <= 4096,
          `${logged.length} characters`,
        );
      }
      const entry = accessLog(lines)[0];
      assert.equal(entry.method, line.startsWith("GET") ? "GET" : "OTHER");
      assert.equal(entry.status, status);
    });
  }
});
