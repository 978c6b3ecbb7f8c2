/**
 * Refresh ahead of expiry (cache.ts), through real HTTP, on a clock the tests
 * move: when a refresh starts, that it is one per key, that untouched answers
 * are not refreshed, that refreshes come last in the budget, and what callers
 * get while refreshes fail. Two instances on one Redis: tests/store.
 */

import assert from "node:assert/strict";
import { type RunningService, startWithStandIn } from "../support/service.ts";
import { pollUntil } from "../support/wait.ts";

const WEATHER = "/data-action/weather";
const FORECAST = "/data-action/forecast";
/** The defaults: WEATHER_CACHE_TTL_S 600 and WEATHER_REFRESH_AHEAD_PERCENT 10. */
const TTL_MS = 600_000;
const DUE_MS = 540_000;

async function setUp(variables: Record<string, string> = {}) {
  const started = await startWithStandIn(variables);
  const { service } = started;
  const ask = async (city: string, path = WEATHER) => {
    const response = await service.post(path, { city_name: city });
    assert.equal(response.status, 200);
    return await response.json();
  };
  return {
    ...started,
    ask,
    metric: (series: string) => service.metric(series),
    /** Waits until the series reaches `value`: refreshes run in the background. */
    async metricReaches(series: string, value: number) {
      await pollUntil(`${series} to reach ${value}`, async () => {
        const seen = await service.metric(series);
        return seen === value ? true : undefined;
      }, { intervalMs: 5 });
    },
  };
}

const refreshes = (outcome: string, action = "weather") =>
  `weather_refreshes_total{action="${action}",outcome="${outcome}"}`;

function cacheResults(service: RunningService): unknown[] {
  return service.logLines.map((line) => JSON.parse(line))
    .filter((entry) => entry.msg === "request").map((entry) => entry.cache);
}

Deno.test("an answer callers ask for is refreshed WEATHER_REFRESH_AHEAD_PERCENT of its TTL before it expires", async (t) => {
  await using s = await setUp();
  await s.ask("London");
  s.clock.advance(1_000);
  await s.ask("London");
  assert.equal(s.upstream.requests.length, 1);

  await t.step("not before it is due", () => {
    s.clock.advance(DUE_MS - 1_000 - 1);
    assert.equal(s.upstream.requests.length, 1);
  });
  await t.step("when due, one call in the background", async () => {
    s.clock.advance(1);
    await s.metricReaches(refreshes("ok"), 1);
    assert.equal(s.upstream.requests.length, 2);
  });
  await t.step(
    "callers past the old answer's expiry get the new one, without waiting",
    async () => {
      s.clock.advance(TTL_MS - DUE_MS);
      const answer = await s.ask("London");
      assert.equal(answer.stale, false);
      assert.equal(cacheResults(s.service).at(-1), "hit");
      assert.equal(s.upstream.requests.length, 2);
    },
  );
  await t.step("a refresh spends the budget as a refresh", async () => {
    assert.equal(await s.metric('openweather_budget_spent_total{kind="refresh"}'), 1);
    assert.equal(await s.metric('openweather_calls_total{action="weather",outcome="ok"}'), 2);
  });
});

Deno.test("an answer nobody asked for since it was stored is not refreshed", async (t) => {
  await using s = await setUp();
  await t.step("answered once, by its own miss: never refreshed", async () => {
    await s.ask("London");
    s.clock.advance(TTL_MS + 1);
    assert.equal(s.clock.pendingTimers, 0);
    assert.equal(s.upstream.requests.length, 1);
    assert.equal(await s.metric(refreshes("ok")), 0);
  });
  await t.step("refreshed once, then left alone: not refreshed again", async () => {
    await s.ask("London"); // expired: a miss, call 2
    await s.ask("London"); // a hit: plans a refresh
    s.clock.advance(DUE_MS);
    await s.metricReaches(refreshes("ok"), 1);
    s.clock.advance(10 * TTL_MS);
    assert.equal(s.clock.pendingTimers, 0);
    assert.equal(s.upstream.requests.length, 3);
  });
  await t.step("a not-found answer is never refreshed", async () => {
    assert.equal((await s.ask("Atlantis")).error_code, "CITY_NOT_FOUND");
    assert.equal((await s.ask("Atlantis")).error_code, "CITY_NOT_FOUND");
    assert.equal(s.clock.pendingTimers, 0);
  });
});

Deno.test("one refresh per key: many hits plan one, and callers at expiry join it", async () => {
  await using s = await setUp();
  await s.ask("London");
  for (let i = 0; i < 20; i++) await s.ask(i % 2 ? "LONDON" : " london ");
  assert.equal(s.clock.pendingTimers, 1);
  const release = s.upstream.hold();
  s.clock.advance(DUE_MS);
  await s.upstream.waitForRequests(2);
  // The refresh is slower than the time left: callers after expiry wait for it, not for another.
  s.clock.advance(TTL_MS - DUE_MS);
  const waiting = Array.from({ length: 10 }, () => s.ask("London"));
  release();
  const answers = await Promise.all(waiting);
  assert.ok(answers.every((answer) => answer.stale === false));
  assert.equal(s.upstream.requests.length, 2);
  await s.metricReaches(refreshes("ok"), 1);
});

Deno.test("refreshes come last in the budget: a caller's miss is never refused for one", async (t) => {
  // 4 calls a minute: refreshes may start only while fewer than 2 were made (50 %).
  await using s = await setUp({
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "4",
    OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "50",
    OPENWEATHER_REFRESH_SHARE_PERCENT: "50",
    WEATHER_CACHE_TTL_S: "20",
  });
  await t.step("with 2 calls in the window, both due refreshes are held back", async () => {
    for (const city of ["London", "Tokyo", "London", "Tokyo"]) await s.ask(city);
    s.clock.advance(18_000);
    await s.metricReaches(refreshes("throttled"), 2);
    assert.equal(s.upstream.requests.length, 2);
    assert.equal(
      await s.metric('openweather_budget_refused_total{kind="refresh",reason="refresh_share"}'),
      2,
    );
  });
  await t.step("the callers after expiry get the two calls that are left", async () => {
    s.clock.advance(2_000);
    for (const city of ["London", "Tokyo"]) {
      const answer = await s.ask(city);
      assert.equal(answer.city, city);
      assert.equal(answer.stale, false);
    }
    assert.equal(s.upstream.requests.length, 4);
    assert.equal(await s.metric('openweather_budget_spent_total{kind="known"}'), 2);
  });
  await t.step("once the window has room, refreshes run again", async () => {
    await s.ask("London"); // a hit: plans its refresh, 18 s after it was stored
    s.clock.advance(60_000);
    await s.metricReaches(refreshes("ok"), 1);
    assert.equal(s.upstream.requests.length, 5);
  });
});

Deno.test("refreshes never take the share names never answered before may use", async () => {
  // Unknown names may use 75 %: refreshes get at most the other 25 %, whatever their own share.
  await using s = await setUp({
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "4",
    OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "75",
    OPENWEATHER_REFRESH_SHARE_PERCENT: "100",
    WEATHER_CACHE_TTL_S: "20",
  });
  await s.ask("London");
  await s.ask("London");
  s.clock.advance(18_000);
  // One call in the window already: at the refreshes' limit of 1.
  await s.metricReaches(refreshes("throttled"), 1);
  assert.equal(s.upstream.requests.length, 1);
});

Deno.test("when a refresh fails, callers get the cached answer, and never wait on the failing upstream twice", async (t) => {
  await using s = await setUp();
  const fresh = await s.ask("London");
  await s.ask("London");
  s.upstream.respondWith(() => new Response("Bad Gateway", { status: 502 }));

  await t.step(
    "the failure is counted and logged, and the answer is still served fresh",
    async () => {
      s.clock.advance(DUE_MS);
      await s.metricReaches(refreshes("UPSTREAM_UNAVAILABLE"), 1);
      const logged = await s.service.waitForLog("Background refresh failed");
      assert.equal(logged.level, "warn");
      assert.equal(logged.action, "weather");
      assert.equal(logged.error_code, "UPSTREAM_UNAVAILABLE");
      assert.deepEqual(await s.ask("London"), fresh);
    },
  );
  await t.step("it is retried no sooner than a quarter of the lead later", async () => {
    // Planned by the ask above: 15 s after the failure.
    s.clock.advance(14_999);
    assert.equal(s.upstream.requests.length, 2);
    s.clock.advance(1);
    await s.metricReaches(refreshes("UPSTREAM_UNAVAILABLE"), 2);
    assert.equal(s.upstream.requests.length, 3);
  });
  await t.step("past expiry, the stale answer at once, while a retry is under way", async () => {
    s.clock.advance(TTL_MS - DUE_MS);
    const release = s.upstream.hold();
    try {
      assert.deepEqual(await s.ask("London"), { ...fresh, stale: true });
      await s.upstream.waitForRequests(4);
      assert.deepEqual(await s.ask("London"), { ...fresh, stale: true });
      assert.deepEqual(cacheResults(s.service).slice(-2), ["stale", "stale"]);
    } finally {
      release();
    }
    await s.metricReaches(refreshes("UPSTREAM_UNAVAILABLE"), 3);
    assert.equal(s.upstream.requests.length, 4);
  });
  await t.step("once the upstream is back, the next retry brings a fresh answer", async () => {
    s.upstream.respondWith(undefined);
    s.clock.advance(15_000);
    assert.deepEqual(await s.ask("London"), { ...fresh, stale: true });
    await s.metricReaches(refreshes("ok"), 1);
    assert.deepEqual(await s.ask("London"), fresh);
    assert.equal(cacheResults(s.service).at(-1), "hit");
  });
});

Deno.test("while OpenWeatherMap is failing, one probe per retry interval, not one retry per place", async (t) => {
  await using s = await setUp();
  const cities = ["London", "Tokyo", "New York", "São Paulo"];
  for (const city of [...cities, ...cities]) await s.ask(city);
  s.upstream.respondWith(() => new Response("Bad Gateway", { status: 502 }));
  s.clock.advance(DUE_MS);
  await s.metricReaches(refreshes("UPSTREAM_UNAVAILABLE"), 4);
  assert.equal(s.upstream.requests.length, 8);

  await t.step(
    "past expiry, every caller gets a stale answer at once, and one probe goes",
    async () => {
      s.clock.advance(TTL_MS - DUE_MS);
      for (const city of cities) assert.equal((await s.ask(city)).stale, true);
      await s.metricReaches(refreshes("UPSTREAM_UNAVAILABLE"), 5);
      assert.equal(s.upstream.requests.length, 9);
    },
  );
  await t.step(
    "once the upstream is back, the next probe ends it, and each place is retried",
    async () => {
      s.upstream.respondWith(undefined);
      s.clock.advance(15_000);
      assert.equal((await s.ask("London")).stale, true);
      await s.metricReaches(refreshes("ok"), 1);
      for (const city of cities.slice(1)) assert.equal((await s.ask(city)).stale, true);
      await s.metricReaches(refreshes("ok"), 4);
      for (const city of cities) assert.equal((await s.ask(city)).stale, false);
      assert.equal(s.upstream.requests.length, 13);
    },
  );
});

Deno.test("the forecast is refreshed ahead too, on its own TTL", async () => {
  await using s = await setUp();
  await s.ask("London", FORECAST);
  await s.ask("London", FORECAST);
  // FORECAST_CACHE_TTL_S 1800: due 180 s before it expires.
  s.clock.advance(1_620_000 - 1);
  assert.equal(s.upstream.requests.length, 1);
  s.clock.advance(1);
  await s.metricReaches(refreshes("ok", "forecast"), 1);
  assert.equal(s.upstream.requests.length, 2);
});

Deno.test("WEATHER_REFRESH_AHEAD_PERCENT=0 turns it off", async () => {
  await using s = await setUp({ WEATHER_REFRESH_AHEAD_PERCENT: "0" });
  await s.ask("London");
  await s.ask("London");
  assert.equal(s.clock.pendingTimers, 0);
  s.clock.advance(TTL_MS);
  await s.ask("London");
  assert.equal(cacheResults(s.service).at(-1), "miss");
});
