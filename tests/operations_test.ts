import assert from "node:assert/strict";
import { createLogger } from "../src/process/log.ts";
import { createService } from "../src/service.ts";
import { startFakeOpenWeather, TEST_API_KEY } from "./support/fake_openweather.ts";
import { startFakeKeyHost } from "./support/fake_jwks.ts";
import { closedPortUrl } from "./support/fake_openweather.ts";
import { postWeather, runToEnd, type ServiceProcess, spawnService } from "./support/process.ts";
import { exchange } from "./support/raw_http.ts";
import { generateTestKey, signToken } from "./support/tokens.ts";
import { testConfig } from "./support/service.ts";
import { WAIT_MS, within } from "./support/wait.ts";

Deno.test("SIGTERM under load: every request in flight is answered, none dropped, exit 0", async () => {
  await using upstream = startFakeOpenWeather();
  await using service = spawnService({
    OPENWEATHER_API_KEY: TEST_API_KEY,
    AUTH_MODE: "none",
    HOST: "127.0.0.1",
    PORT: "0",
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "1000",
  });
  const url = await service.listening();
  const release = upstream.hold();
  // Distinct cities, so every request really waits on its own upstream call.
  const inFlight = Array.from({ length: 100 }, (_, i) => postWeather(url, `City ${i}`));
  await upstream.waitForRequests(100);
  service.child.kill("SIGTERM");
  await service.waitForLine((line) => line.msg === "Shutting down", "the Shutting down line");
  await assert.rejects(postWeather(url, "London"), "new connections are refused while draining");
  release();
  const responses = await Promise.all(inFlight);
  const statuses = await Promise.all(responses.map(async (response) => {
    const body = await response.json();
    return `${response.status} ${body.error_code}`;
  }));
  assert.deepEqual(new Set(statuses), new Set(["200 CITY_NOT_FOUND"]));
  const { code, stderr } = await service.waitForExit(15_000);
  assert.equal(code, 0);
  assert.equal(stderr, "");
});

/** A loopback OTLP/HTTP receiver for the JSON encoding, keeping every payload. */
function startOtlpReceiver() {
  const payloads: { path: string; body: string }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      payloads.push({ path: new URL(request.url).pathname, body: await request.text() });
      return Response.json({});
    },
  );
  const close = () => within(WAIT_MS, server.shutdown(), "the OTLP receiver to stop");
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    payloads,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function spansOf(payloads: { path: string; body: string }[]): OtlpSpan[] {
  return payloads
    .filter((payload) => payload.path === "/v1/traces")
    .flatMap((payload) => JSON.parse(payload.body).resourceSpans)
    .flatMap((resource: { scopeSpans: { spans: OtlpSpan[] }[] }) => resource.scopeSpans)
    .flatMap((scope: { spans: OtlpSpan[] }) => scope.spans);
}

function attribute(span: OtlpSpan, key: string): unknown {
  const found = span.attributes?.find((candidate) => candidate.key === key);
  return found === undefined ? undefined : Object.values(found.value)[0];
}

interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/**
 * The two ways tracing meets the service: main.ts under OTEL_DENO=true, and
 * serve.ts started as Deno Deploy starts it, whose built-in tracing is this
 * same Deno integration (emulated here with OTEL_DENO and a loopback receiver).
 */
const TRACED_STARTS = {
  "main.ts": {
    spawn: (env: Record<string, string>) => spawnService({ ...env, HOST: "127.0.0.1", PORT: "0" }),
    listening: (service: ServiceProcess) => service.listening(),
    stop: "SIGTERM",
  },
  "serve.ts on Deno Deploy": {
    spawn: (env: Record<string, string>) =>
      spawnService(
        {
          ...env,
          DENO_DEPLOY: "true",
          DENO_AUTO_SERVE: "1",
          DENO_SERVE_ADDRESS: "tcp:127.0.0.1:0",
        },
        {
          command: {
            program: Deno.execPath(),
            args: [
              "run",
              "-A",
              "--config",
              new URL("../deno.json", import.meta.url).pathname,
              new URL("../serve.ts", import.meta.url).pathname,
            ],
          },
        },
      ),
    listening: async (service: ServiceProcess) => {
      const [, port] = await service.waitForStderr(/Listening on http:\/\/[^:]+:(\d+)/);
      return new URL(`http://127.0.0.1:${port}`);
    },
    stop: "SIGINT",
  },
} as const;

for (const [start, how] of Object.entries(TRACED_STARTS)) {
  Deno.test(`${start} with Deno's tracing exports the request and upstream spans, without the API key`, async () => {
    await using receiver = startOtlpReceiver();
    await using upstream = startFakeOpenWeather();
    await using service = how.spawn({
      OPENWEATHER_API_KEY: TEST_API_KEY,
      AUTH_MODE: "none",
      OPENWEATHER_BASE_URL: upstream.url.href,
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: "genesys-weather-action",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    const url = await how.listening(service);
    const response = await postWeather(url, "London");
    assert.equal(response.status, 200);
    await response.body?.cancel();
    service.child.kill(how.stop);
    assert.equal((await service.waitForExit(15_000)).code, 0);

    const spans: OtlpSpan[] = receiver.payloads
      .filter((payload) => payload.path === "/v1/traces")
      .flatMap((payload) => JSON.parse(payload.body).resourceSpans)
      .flatMap((resource: { scopeSpans: { spans: OtlpSpan[] }[] }) => resource.scopeSpans)
      .flatMap((scope: { spans: OtlpSpan[] }) => scope.spans);
    const server = spans.find((span) => span.kind === 2 && span.name.startsWith("POST"));
    const client = spans.find((span) => span.name === "OpenWeatherMap current weather");
    assert.ok(server, `no server span in ${JSON.stringify(spans.map((span) => span.name))}`);
    assert.ok(client, "no upstream span");
    assert.equal(client.kind, 3);
    assert.equal(client.traceId, server.traceId);
    assert.equal(client.parentSpanId, server.spanId);
    const status = client.attributes?.find((attribute) =>
      attribute.key === "http.response.status_code"
    );
    assert.equal(Number(Object.values(status?.value ?? {})[0]), 200);

    const everything = receiver.payloads.map((payload) => payload.body).join("\n");
    assert.ok(!everything.includes(TEST_API_KEY), "the API key reached the telemetry backend");
    assert.ok(
      !everything.includes("appid"),
      "the upstream URL's query reached the telemetry backend",
    );
  });
}

Deno.test("Deno's own tracing records a fetch's full URL: why OpenWeatherMap is not called with fetch while it may trace", async () => {
  // The control for the test above: were the upstream called with fetch under
  // OTEL_DENO=true (or on Deno Deploy, whose tracing is Deno's), the key would
  // reach the tracing backend in url.full.
  await using receiver = startOtlpReceiver();
  await using upstream = startFakeOpenWeather();
  const target = new URL(upstream.url);
  target.searchParams.set("q", "London");
  target.searchParams.set("appid", TEST_API_KEY);
  const output = await runToEnd(Deno.execPath(), {
    args: ["eval", `await (await fetch(${JSON.stringify(target.href)})).text();`],
    env: {
      NO_COLOR: "1",
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: "control",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    },
    stdout: "null",
  }, "deno eval with OTEL_DENO=true");
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const traces = receiver.payloads.filter((payload) => payload.path === "/v1/traces");
  assert.ok(traces.some((payload) => payload.body.includes(TEST_API_KEY)));
});

Deno.test("soak: 20,000 requests over 200 cities do not grow the heap", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --v8-flags=--expose-gc (deno task test does)");
  await using upstream = startFakeOpenWeather();
  let lines = 0;
  const service = await createService(
    testConfig({
      OPENWEATHER_BASE_URL: upstream.url.href,
      OPENWEATHER_MAX_CALLS_PER_MINUTE: "100000",
      LOG_LEVEL: "info",
    }),
    createLogger({ level: "info", write: () => lines++ }),
  );
  const request = (i: number) =>
    service.handler(
      new Request("http://localhost/data-action/weather", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ city_name: i % 7 === 0 ? "London" : `City ${i % 200}` }),
      }),
    ).then((response) => response.text());
  const run = async (count: number) => {
    for (let i = 0; i < count; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => request(i + j)));
    }
  };
  const heapAfterGc = () => {
    gc();
    return Deno.memoryUsage().heapUsed;
  };
  try {
    await run(5_000); // Warm up: caches filled, code compiled.
    const before = heapAfterGc();
    await run(20_000);
    const after = heapAfterGc();
    const growthMiB = (after - before) / 1024 / 1024;
    assert.ok(lines >= 25_000, "every request was logged");
    assert.ok(growthMiB < 4, `heap grew by ${growthMiB.toFixed(2)} MiB over 20,000 requests`);
  } finally {
    await service.close();
  }
});

Deno.test("a secret in a query string reaches neither the logs nor the spans, inbound or outbound", async (s) => {
  const KEY_SET_SECRET = "SAS-TOKEN-SECRET-0123456789";
  const INBOUND_SECRET = "inbound-client-secret-0123456789";
  const ISSUER = "https://idp.example.test/";
  const AUDIENCE = "api://genesys-weather";
  const key = await generateTestKey("key-1");
  await using keyHost = startFakeKeyHost([key.publicJwk]);
  await using upstream = startFakeOpenWeather();
  await using receiver = startOtlpReceiver();
  const common = {
    OPENWEATHER_API_KEY: TEST_API_KEY,
    OPENWEATHER_BASE_URL: upstream.url.href,
    AUTH_MODE: "jwt",
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "debug",
  };
  await s.step("the start-up line and a failing key-set fetch", async () => {
    const unreachable = new URL(closedPortUrl());
    unreachable.pathname = "/jwks.json";
    unreachable.search = `?sig=${KEY_SET_SECRET}&sv=2024`;
    await using service = spawnService({ ...common, AUTH_JWKS_URL: unreachable.href });
    await service.listening();
    const failure = await service.waitForLine(
      (line) => String(line.msg).startsWith("Key set could not be fetched"),
      "the key-set failure",
    );
    const configuration = service.lines.find((line) => line.msg === "Configuration");
    assert.ok(configuration, "no Configuration line");
    const logged = JSON.stringify(service.lines);
    assert.ok(
      !logged.includes(KEY_SET_SECRET),
      `the key-set URL's secret was logged:\n${logged}`,
    );
    assert.match(JSON.stringify(configuration), /jwks\.json\?sig=\[REDACTED\]&sv=\[REDACTED\]/);
    assert.ok(failure.url, "the failure names the key host");
  });

  await s.step("the key-set fetch span and the incoming request's span", async () => {
    const jwksUrl = new URL(keyHost.url);
    jwksUrl.search = `?sig=${KEY_SET_SECRET}`;
    await using service = spawnService({
      ...common,
      AUTH_JWKS_URL: jwksUrl.href,
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: "genesys-weather-action",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    const url = await service.listening();
    const nowS = Math.floor(Date.now() / 1000);
    const token = await signToken({ key, nowS, claims: { iss: ISSUER, aud: AUDIENCE } });
    const body = JSON.stringify({ city_name: "London" });
    const answer = await exchange(
      url,
      `POST /data-action/weather?client_secret=${INBOUND_SECRET}&x=${INBOUND_SECRET} HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${url.port}\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.equal(answer.status, 200, answer.text);
    service.child.kill("SIGTERM");
    assert.equal((await service.waitForExit(15_000)).code, 0);

    const spans = spansOf(receiver.payloads);
    const server = spans.find((span) => span.kind === 2 && span.name.startsWith("POST"));
    assert.ok(server, `no server span in ${JSON.stringify(spans.map((span) => span.name))}`);
    const keySetSpan = spans.find((span) => span.name === "GET key set");
    assert.ok(
      keySetSpan,
      `no key-set span in ${JSON.stringify(spans.map((span) => span.name))}`,
    );
    assert.match(String(attribute(keySetSpan, "url.full")), /jwks\.json\?sig=\[REDACTED\]$/);
    const exported = receiver.payloads.map((payload) => payload.body).join("\n");
    assert.ok(!exported.includes(KEY_SET_SECRET), "the key-set URL's secret was exported");
    assert.ok(
      !JSON.stringify(service.lines).includes(INBOUND_SECRET),
      "the incoming query's secret was logged",
    );
    // Deno's own span for the request exports the query as received, and
    // setAttribute only adds a second url.query beside it. docs/operations.md
    // (Tracing) says so and what to do (strip it at the proxy or the
    // collector); this fails once Deno changes, so the docs can change with it.
    assert.equal(
      attribute(server, "url.query"),
      `client_secret=${INBOUND_SECRET}&x=${INBOUND_SECRET}`,
    );
  });
});
