import assert from "node:assert/strict";
import fc from "fast-check";
import { createMetrics, type Metrics } from "../../src/process/metrics.ts";
import { promClientMetrics } from "../support/prom_client_metrics.ts";

const KNOWN = {
  upstream: ["UPSTREAM_TIMEOUT", "CITY_NOT_FOUND"],
  answers: ["UPSTREAM_TIMEOUT", "CITY_NOT_FOUND", "INVALID_INPUT"],
};

const withoutRss = (text: string) =>
  text.replace(/^process_resident_memory_bytes \d+$/m, "process_resident_memory_bytes RSS");

/** One call on the Metrics interface, with its arguments. */
type Event = (metrics: Metrics) => void;

const BOUNDS = [0, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5];
const kind = fc.constantFrom("known" as const, "unknown" as const);
const event: fc.Arbitrary<Event> = fc.oneof(
  fc.tuple(
    // "GET" as a route too: each label keeps its own values, whatever the others hold.
    fc.constantFrom("/data-action/weather", "/healthz", "unmatched", "GET", 'odd "route"\\\n'),
    fc.constantFrom("GET", "POST", "BREW"),
    fc.constantFrom(200, 401, 404, 503),
    fc.oneof(fc.constantFrom(...BOUNDS), fc.double({ min: 0, max: 10, noNaN: true })),
  ).map(([route, method, status, seconds]) => (m: Metrics) =>
    m.request(route, method, status, seconds)
  ),
  fc.constantFrom("ok", "throttled", "UPSTREAM_TIMEOUT", "UPSTREAM_AUTH_FAILED").map(
    (outcome) => (m: Metrics) => m.upstreamCall(outcome),
  ),
  fc.constantFrom("hit" as const, "shared" as const, "miss" as const, "stale" as const).map(
    (result) => (m: Metrics) => m.weatherCache(result),
  ),
  kind.map((k) => (m: Metrics) => m.budgetSpent(k)),
  fc.tuple(kind, fc.constantFrom("limit", "unknown_share", "backoff", 'odd "reason"\\\n')).map(
    ([k, reason]) => (m: Metrics) => m.budgetRefused(k, reason),
  ),
  fc.tuple(fc.constantFrom("redis", "kv"), fc.boolean()).map(
    ([backend, up]) => (m: Metrics) => m.sharedStoreUp(backend, up),
  ),
  fc.tuple(fc.constantFrom("redis", "kv", "get"), fc.constantFrom("get", "admit", 'a\\"b')).map(
    ([backend, operation]) => (m: Metrics) => m.sharedStoreError(backend, operation),
  ),
  fc.constantFrom("hit" as const, "miss" as const, "rejected" as const).map(
    (result) => (m: Metrics) => m.tokenVerification(result),
  ),
  fc.constantFrom("ok", "CITY_NOT_FOUND", "NOT_FOUND").map(
    (outcome) => (m: Metrics) => m.weatherAnswer(outcome),
  ),
  fc.double({ min: 0, max: 60, noNaN: true }).map((seconds) => (m: Metrics) =>
    m.requestDeadline(seconds)
  ),
);

Deno.test("createMetrics() writes exactly what prom-client writes, for any sequence of events", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(event, { maxLength: 60 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 60 }),
      async (events, withKeySet, remaining) => {
        const ours = createMetrics(KNOWN);
        const reference = promClientMetrics(KNOWN, () => 1);
        for (const metrics of [ours, reference]) {
          metrics.upstreamBudget(() => remaining);
          if (withKeySet) metrics.keySet(() => remaining % 2 === 0);
          for (const apply of events) apply(metrics);
        }
        assert.equal(
          withoutRss(await ours.registry.metrics()),
          withoutRss(await reference.registry.metrics()),
        );
        assert.equal(ours.registry.contentType, reference.registry.contentType);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("createMetrics() reports the process's resident memory", async () => {
  const text = await createMetrics(KNOWN).registry.metrics();
  const rss = Number(text.match(/^process_resident_memory_bytes (\d+)$/m)?.[1]);
  assert.ok(rss > 1024 * 1024, text);
});
