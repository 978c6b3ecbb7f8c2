import assert from "node:assert/strict";
import type { Authenticator } from "../../src/auth/mod.ts";
import { createHandler } from "../../src/edge/handler.ts";
import { createDeadlineQueue, type DeadlineClock } from "../../src/http/deadlines.ts";
import { REQUEST_ERRORS } from "../../src/http/errors.ts";
import { createLogger } from "../../src/process/log.ts";
import { createMetrics } from "../../src/process/metrics.ts";
import { createWeatherAction } from "../../src/weather/action.ts";
import { createWeatherCache } from "../../src/weather/cache.ts";
import { UPSTREAM_ERROR_CODES } from "../../src/weather/contract.ts";
import { parseObservation } from "../../src/weather/observation.ts";
import type { Observation } from "../../src/weather/openweather.ts";
import { createUpstreamGuard } from "../../src/weather/upstream_guard.ts";
import { LONDON } from "../support/fake_openweather.ts";

/** A clock whose time and one pending timer the test moves by hand. */
function manualClock() {
  let time = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const clock: DeadlineClock = {
    now: () => time,
    setTimer: (callback, delayMs) => {
      const id = nextId++;
      timers.set(id, { at: time + delayMs, callback });
      return id as unknown as ReturnType<typeof setTimeout>;
    },
    clearTimer: (id) => void timers.delete(id as unknown as number),
  };
  return {
    clock,
    timers,
    advance(ms: number) {
      time += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at <= time && timers.delete(id)) timer.callback();
      }
    },
  };
}

Deno.test("createDeadlineQueue() fires each deadline once, after its length, on one timer", () => {
  const { clock, timers, advance } = manualClock();
  const queue = createDeadlineQueue(100, clock);
  const fired: string[] = [];
  queue.arm({ expired: () => fired.push("a") });
  advance(30);
  const b = queue.arm({ expired: () => fired.push("b") });
  queue.arm({ expired: () => fired.push("c") });
  assert.equal(timers.size, 1, "one timer for any number of deadlines");
  assert.equal(queue.pending, 3);

  advance(69);
  assert.deepEqual(fired, [], "nothing before its length has passed");
  advance(1);
  assert.deepEqual(fired, ["a"]);
  b.cancel();
  advance(30);
  assert.deepEqual(fired, ["a", "c"], "a cancelled deadline never fires");
  assert.equal(queue.pending, 0);
  assert.equal(timers.size, 0, "an empty queue holds no timer once its timer has fired");
});

Deno.test("createDeadlineQueue() arms no timer per request while requests come and go", () => {
  const { clock, timers, advance } = manualClock();
  const queue = createDeadlineQueue(50, clock);
  let armed = 0;
  const setTimer = clock.setTimer;
  clock.setTimer = (callback, delayMs) => (armed++, setTimer(callback, delayMs));
  for (let request = 0; request < 100; request++) {
    // Each request is done before the next arrives: the queue empties every time.
    queue.arm({ expired: () => assert.fail("cancelled") }).cancel();
    advance(1);
  }
  assert.equal(queue.pending, 0);
  assert.equal(armed, 2, "one timer per deadline length, not one per request");
  advance(50);
  assert.equal(timers.size, 0, "nothing left queued: the timer is not re-armed");

  let fired = 0;
  queue.arm({ expired: () => fired++ });
  advance(50);
  assert.equal(fired, 1, "the queue arms a new timer after being idle");
});

Deno.test("createDeadlineQueue() close() stops the timer and drops what is queued", () => {
  const { clock, timers, advance } = manualClock();
  const queue = createDeadlineQueue(50, clock);
  queue.arm({ expired: () => assert.fail("closed") });
  queue.close();
  assert.equal(timers.size, 0);
  assert.equal(queue.pending, 0);
  advance(100);
});

Deno.test("createDeadlineQueue() re-arms for a deadline armed while one fires", () => {
  const { clock, advance } = manualClock();
  const queue = createDeadlineQueue(10, clock);
  const fired: number[] = [];
  queue.arm({
    expired: () => {
      fired.push(1);
      queue.arm({ expired: () => fired.push(2) });
    },
  });
  advance(10);
  assert.deepEqual(fired, [1]);
  advance(10);
  assert.deepEqual(fired, [1, 2]);
});

Deno.test("createDeadlineQueue() on the system clock fires, and close() leaves no timer", async () => {
  const queue = createDeadlineQueue(5);
  let fired = false;
  queue.arm({ expired: () => fired = true });
  // The queue's timer does not keep the process alive; this one does.
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fired, true);
  queue.arm({ expired: () => assert.fail("cancelled") }).cancel();
  assert.equal(queue.pending, 0);
  queue.close();
});

// ---- The weather route's deadline, in-process, on the same hand-moved clock. ----

const DEADLINE_MS = 1_000;
const TTL_MS = 600_000;

/**
 * The real handler, action and cache; an authenticator and an upstream the
 * test controls, each answering only when the test says so.
 */
function weatherRoute(authenticate: Authenticator["authenticate"]) {
  const { clock, advance } = manualClock();
  const metrics = createMetrics({
    upstream: UPSTREAM_ERROR_CODES,
    answers: [...UPSTREAM_ERROR_CODES, ...Object.keys(REQUEST_ERRORS)],
  });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "info", write: (line) => lines.push(JSON.parse(line)) });
  const upstreamCalls: PromiseWithResolvers<Observation>[] = [];
  const cache = createWeatherCache({
    client: {
      currentWeather: () => {
        upstreamCalls.push(Promise.withResolvers<Observation>());
        return upstreamCalls.at(-1)!.promise;
      },
      close: () => Promise.resolve(),
    },
    guard: createUpstreamGuard({
      maxCallsPerMinute: 60,
      unknownSharePercent: 100,
      backoffMs: 0,
      now: clock.now,
      logger,
      metrics,
    }),
    ttlMs: TTL_MS,
    notFoundTtlMs: TTL_MS,
    staleMaxMs: TTL_MS,
    maxEntries: 10,
    now: clock.now,
    metrics,
  });
  const handler = createHandler({
    weatherAction: createWeatherAction(cache),
    authenticator: { authenticate },
    deadlineMs: DEADLINE_MS,
    deadlines: createDeadlineQueue(DEADLINE_MS, clock),
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
  return { post, advance, upstreamCalls, lines };
}

/** Lets pending promises and reads run; no time passes on the test's clock. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const london = () => parseObservation(structuredClone(LONDON));
const letIn: Authenticator["authenticate"] = () => Promise.resolve({ subject: "test" });

Deno.test("POST /data-action/weather answers 503 when authentication outlasts the deadline", async () => {
  const late = Promise.withResolvers<{ subject: string }>();
  const t = weatherRoute(() => late.promise);
  const answer = t.post();
  t.advance(DEADLINE_MS);
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
  t.advance(DEADLINE_MS);
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
      route.advance(DEADLINE_MS);
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
    },
  );
  await t.step("an expired answer in the cache: served stale at the deadline", async () => {
    route.advance(TTL_MS);
    const answer = route.post();
    await settle();
    assert.equal(route.upstreamCalls.length, 2, "the upstream was asked again");
    route.advance(DEADLINE_MS);
    const response = await answer;
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.city, "London");
    assert.equal(body.stale, true);
    route.upstreamCalls[1]!.resolve(london());
  });
});
