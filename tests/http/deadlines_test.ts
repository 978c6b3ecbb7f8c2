import assert from "node:assert/strict";
import type { Authenticator } from "../../src/auth/mod.ts";
import { createHandler } from "../../src/edge/handler.ts";
import { createLogger } from "../../src/process/log.ts";
import { createMetricsRegistry } from "../../src/process/metrics.ts";
import { RequestDeadlines } from "../../src/process/timeout.ts";
import { METRIC_FAMILIES } from "../../src/service.ts";
import { createWeatherAction } from "../../src/weather/action.ts";
import { createAnswerCache } from "../../src/weather/cache.ts";
import { createKnownPlaces } from "../../src/weather/known_places.ts";
import { WEATHER_METRICS } from "../../src/weather/metrics.ts";
import { parseObservation } from "../../src/weather/observation.ts";
import type { Observation } from "../../src/weather/openweather.ts";
import { createUpstreamGuard } from "../../src/weather/upstream_guard.ts";
import { TestClock } from "../support/clock.ts";
import { LONDON } from "../support/fake_openweather.ts";

const DEADLINE_MS = 1_000;
const TTL_MS = 600_000;

/**
 * The real handler, action and cache; an authenticator and an upstream the
 * test controls, each answering only when the test says so.
 */
function weatherRoute(authenticate: Authenticator["authenticate"]) {
  const clock = new TestClock();
  const metrics = createMetricsRegistry(METRIC_FAMILIES);
  const weatherMetrics = metrics.recorders(WEATHER_METRICS);
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "info", write: (line) => lines.push(JSON.parse(line)) });
  const upstreamCalls: PromiseWithResolvers<Observation>[] = [];
  const cache = createAnswerCache({
    action: "weather",
    fetch: () => {
      upstreamCalls.push(Promise.withResolvers<Observation>());
      return upstreamCalls.at(-1)!.promise;
    },
    guard: createUpstreamGuard({
      maxCallsPerMinute: 60,
      unknownSharePercent: 100,
      refreshSharePercent: 0,
      backoffMs: 0,
      now: clock.now,
      logger,
      metrics: weatherMetrics,
    }),
    ttlMs: TTL_MS,
    notFoundTtlMs: TTL_MS,
    staleMaxMs: TTL_MS,
    maxEntries: 10,
    known: createKnownPlaces({ maxEntries: 10, now: clock.now }),
    refreshAheadMs: 0,
    refreshClaimMs: 0,
    timers: clock.timers,
    now: clock.now,
    logger,
    metrics: weatherMetrics,
  });
  const deadlines = new RequestDeadlines(DEADLINE_MS, { timers: clock.timers, now: clock.now });
  const handler = createHandler({
    weatherAction: createWeatherAction(cache, { severeWindMetresPerSecond: 17.2 }),
    // Not called: the forecast's route runs the same code (action_route.ts).
    forecastAction: () => Promise.reject(new Error("The forecast is not part of this test")),
    authenticator: { authenticate },
    deadlines,
    notReadyReasons: () => [],
    metrics,
    logger,
  });
  const post = (body: BodyInit = JSON.stringify({ city_name: "London" })) =>
    handler(
      new Request("http://localhost/data-action/weather", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }),
    );
  return { post, clock, deadlines, upstreamCalls, lines };
}

/** Lets pending promises and reads run; no time passes on the test's clock. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const london = () => parseObservation(structuredClone(LONDON));
const letIn: Authenticator["authenticate"] = () => Promise.resolve({ subject: "test" });

Deno.test("POST /data-action/weather answers 503 when authentication outlasts the deadline", async () => {
  const late = Promise.withResolvers<{ subject: string }>();
  const t = weatherRoute(() => late.promise);
  const answer = t.post();
  t.clock.advance(DEADLINE_MS);
  const response = await answer;
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "5");
  assert.deepEqual(await response.json(), {
    error_code: "AUTH_UNAVAILABLE",
    error_message: "Credentials could not be checked in time",
  });
  assert.deepEqual(
    t.lines.filter((line) => line.msg === "Request deadline reached").map((line) => line.phase),
    ["authenticating"],
  );
  // Authentication finishing late changes nothing.
  late.resolve({ subject: "late" });
  await settle();
  assert.equal(t.upstreamCalls.length, 0);
});

Deno.test("POST /data-action/weather answers 408 when the body outlasts the deadline", async () => {
  const t = weatherRoute(letIn);
  let sender!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => void (sender = controller),
  });
  sender.enqueue(new TextEncoder().encode('{"city_name":'));
  const answer = t.post(body);
  await settle(); // The route is reading the body when time moves.
  t.clock.advance(DEADLINE_MS);
  const response = await answer;
  assert.equal(response.status, 408);
  assert.deepEqual(await response.json(), {
    error_code: "REQUEST_TIMEOUT",
    error_message: "Request body did not arrive in time",
  });
  sender.close();
});

Deno.test("POST /data-action/weather answers at the deadline while the upstream is slow", async (t) => {
  const route = weatherRoute(letIn);
  await t.step(
    "nothing cached: UPSTREAM_TIMEOUT, and the late answer fills the cache",
    async () => {
      const answer = route.post();
      await settle();
      assert.equal(route.upstreamCalls.length, 1, "the upstream was asked");
      route.clock.advance(DEADLINE_MS);
      const response = await answer;
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), {
        error_code: "UPSTREAM_TIMEOUT",
        error_message: "The weather service did not answer in time",
      });
      route.upstreamCalls[0]!.resolve(london());
      await settle();
      const cached = await route.post();
      assert.equal((await cached.json()).city, "London");
      assert.equal(route.upstreamCalls.length, 1, "answered from the cache");
      assert.equal(route.deadlines.pending, 0, "an answered request holds no deadline");
      route.clock.advance(DEADLINE_MS);
      assert.equal(
        route.clock.pendingTimers,
        0,
        "with nothing pending, the deadlines' timer stops",
      );
    },
  );
  await t.step("an expired answer in the cache: served stale at the deadline", async () => {
    route.clock.advance(TTL_MS);
    const answer = route.post();
    await settle();
    assert.equal(route.upstreamCalls.length, 2, "the upstream was asked again");
    route.clock.advance(DEADLINE_MS);
    const response = await answer;
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.city, "London");
    assert.equal(body.stale, true);
    route.upstreamCalls[1]!.resolve(london());
  });
});
