import assert from "node:assert/strict";
import fc from "fast-check";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { createMetrics, type Metrics } from "../../src/process/metrics.ts";

/** The registry src/process/metrics.ts used to build with prom-client, kept as the reference. */
function promClientReference(): Metrics & { registry: Registry } {
  const registry = new Registry();
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer, by route",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const upstream = new Counter({
    name: "openweather_calls_total",
    help:
      'OpenWeatherMap calls by outcome ("ok", an error_code, or "throttled" when the guard avoided the call)',
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const cache = new Counter({
    name: "weather_cache_lookups_total",
    help: "Weather cache lookups by result (hit, miss, stale)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: "auth_token_verifications_total",
    help:
      "Bearer token checks by result (hit: from the verification cache, miss: verified, rejected)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident set size",
    registers: [registry],
    collect() {
      this.set(1);
    },
  });
  return {
    registry,
    request: (route, method, status, seconds) => {
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route }, seconds);
    },
    upstreamCall: (outcome) => upstream.inc({ outcome }),
    weatherCache: (result) => cache.inc({ result }),
    tokenVerification: (result) => tokens.inc({ result }),
  };
}

const withoutRss = (text: string) =>
  text.replace(/^process_resident_memory_bytes \d+$/m, "process_resident_memory_bytes RSS");

type Operation =
  | { kind: "request"; route: string; method: string; status: number; seconds: number }
  | { kind: "upstream"; outcome: string }
  | { kind: "cache"; result: "hit" | "miss" | "stale" }
  | { kind: "token"; result: "hit" | "miss" | "rejected" };

function apply(metrics: Metrics, operation: Operation): void {
  switch (operation.kind) {
    case "request":
      return metrics.request(
        operation.route,
        operation.method,
        operation.status,
        operation.seconds,
      );
    case "upstream":
      return metrics.upstreamCall(operation.outcome);
    case "cache":
      return metrics.weatherCache(operation.result);
    case "token":
      return metrics.tokenVerification(operation.result);
  }
}

const BOUNDS = [0, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5];
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant("request" as const),
    route: fc.constantFrom("/data-action/weather", "/healthz", "unmatched", 'odd "route"\\\n'),
    method: fc.constantFrom("GET", "POST", "BREW"),
    status: fc.constantFrom(200, 401, 404, 503),
    seconds: fc.oneof(fc.constantFrom(...BOUNDS), fc.double({ min: 0, max: 10, noNaN: true })),
  }),
  fc.record({
    kind: fc.constant("upstream" as const),
    outcome: fc.constantFrom("ok", "throttled", "UPSTREAM_TIMEOUT"),
  }),
  fc.record({
    kind: fc.constant("cache" as const),
    result: fc.constantFrom("hit", "miss", "stale"),
  }),
  fc.record({
    kind: fc.constant("token" as const),
    result: fc.constantFrom("hit", "miss", "rejected"),
  }),
);

Deno.test("createMetrics() writes exactly what prom-client wrote, for any sequence of events", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { maxLength: 60 }), async (operations) => {
      const ours = createMetrics();
      const reference = promClientReference();
      for (const event of operations) {
        apply(ours, event);
        apply(reference, event);
      }
      assert.equal(
        withoutRss(await ours.registry.metrics()),
        withoutRss(await reference.registry.metrics()),
      );
      assert.equal(ours.registry.contentType, reference.registry.contentType);
    }),
    { numRuns: 200 },
  );
});

Deno.test("createMetrics() reports the process's resident memory", async () => {
  const text = await createMetrics().registry.metrics();
  const rss = Number(text.match(/^process_resident_memory_bytes (\d+)$/m)?.[1]);
  assert.ok(rss > 1024 * 1024, text);
});
