/**
 * The shared store in-process, with an injected clock: Deno KV on a local
 * file, the stale answer at the deadline through Redis, one refresh ahead
 * of expiry for many instances, the failures a store can have (slow,
 * garbage), and answers someone else wrote into it.
 */

import assert from "node:assert/strict";
import {
  ERROR_BODIES,
  type FakeOpenWeather,
  startFakeOpenWeather,
} from "../support/fake_openweather.ts";
import { TestClock } from "../support/clock.ts";
import { type RunningService, startService } from "../support/service.ts";
import { type RedisServer, startRedis } from "../support/redis.ts";
import { fetchWithin, pollUntil } from "../support/wait.ts";
import { LONDON } from "../support/fake_openweather.ts";
import { cacheKey } from "../../src/weather/cache.ts";
import type { ActionName } from "../../src/weather/contract.ts";
import { parseObservation } from "../../src/weather/observation.ts";

const WEATHER = "/data-action/weather";

async function ask(service: RunningService, city: string): Promise<Record<string, unknown>> {
  const response = await service.post(WEATHER, { city_name: city });
  assert.equal(response.status, 200);
  return await response.json();
}

function lastCacheResult(service: RunningService): unknown {
  return service.logLines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "request")
    .at(-1)?.cache;
}

/** `count` services on one store and one upstream stand-in, all on one clock. */
async function startGroup(count: number, variables: Record<string, string>) {
  const clock = new TestClock();
  const upstream = startFakeOpenWeather();
  const services: RunningService[] = [];
  try {
    for (let i = 0; i < count; i++) {
      services.push(
        await startService({
          OPENWEATHER_BASE_URL: upstream.url.href,
          OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
          ...variables,
        }, { clock }),
      );
    }
  } catch (error) {
    await Promise.all(services.map((service) => service.close()));
    await upstream.close();
    throw error;
  }
  return {
    clock,
    upstream,
    services,
    async close() {
      await Promise.all(services.map((service) => service.close()));
      await upstream.close();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}

Deno.test("SHARED_STORE_URL=kv:<file> shares answers, the budget and the back-off", async (t) => {
  const dir = Deno.makeTempDirSync({ prefix: "kv-test-" });
  const group = await startGroup(2, {
    SHARED_STORE_URL: `kv:${dir}/store.sqlite3`,
    // SQLite on a loaded machine can take longer than the default 150 ms: this test is
    // about sharing, not about the store being slow.
    SHARED_STORE_TIMEOUT_MS: "1000",
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "4",
    OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "100",
  });
  const [a, b] = group.services as [RunningService, RunningService];
  try {
    await t.step("an answer fetched by one is served by the other", async () => {
      assert.equal((await ask(a, "London")).city, "London");
      assert.equal((await ask(b, "London")).city, "London");
      assert.equal(lastCacheResult(b), "shared");
      assert.equal(group.upstream.requests.length, 1);
    });
    await t.step("CITY_NOT_FOUND is shared for its own TTL", async () => {
      assert.equal((await ask(a, "Atlantis")).error_code, "CITY_NOT_FOUND");
      assert.equal((await ask(b, "Atlantis")).error_code, "CITY_NOT_FOUND");
      assert.equal(group.upstream.requests.length, 2);
      group.clock.advance(300_000);
      assert.equal((await ask(b, "Atlantis")).error_code, "CITY_NOT_FOUND");
      assert.equal(group.upstream.requests.length, 3);
    });
    await t.step("one budget across both", async () => {
      // KV counts in 100 ms buckets: a call leaves the window up to 100 ms late.
      group.clock.advance(60_100);
      for (let i = 0; i < 10; i++) await ask(group.services[i % 2]!, `Nowhere ${i}`);
      assert.equal(group.upstream.requests.length, 3 + 4);
      group.clock.advance(60_100);
      assert.equal((await ask(b, "Nowhere 9")).error_code, "CITY_NOT_FOUND");
      assert.equal(group.upstream.requests.length, 3 + 5);
    });
    await t.step("postal codes and coordinates are shared, each in its own key space", async () => {
      const calls = group.upstream.requests.length;
      for (
        const body of [{ postal_code: "10001", country_code: "US" }, {
          latitude: 51.5,
          longitude: 0,
        }]
      ) {
        for (const service of [a, b]) {
          const response = await service.post(WEATHER, body);
          assert.equal(response.status, 200);
          assert.equal((await response.json()).stale, false);
        }
        assert.equal(lastCacheResult(b), "shared");
      }
      assert.equal(group.upstream.requests.length, calls + 2);
    });
    await t.step("a 401 seen by one stops the other", async () => {
      group.upstream.respondWith(() => Response.json(ERROR_BODIES[401], { status: 401 }));
      assert.equal((await ask(a, "Paris")).error_code, "UPSTREAM_AUTH_FAILED");
      const calls = group.upstream.requests.length;
      assert.equal((await ask(b, "Lima")).error_code, "UPSTREAM_AUTH_FAILED");
      assert.equal(group.upstream.requests.length, calls);
      assert.equal(await b.metric('shared_store_up{backend="kv"}'), 1);
    });
  } finally {
    await group.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

/** The deadline case: the upstream hangs past REQUEST_DEADLINE_MS on a city asked 601 s ago. */
async function askWhileUpstreamHangs(
  service: RunningService,
  upstream: FakeOpenWeather,
  city: string,
) {
  const release = upstream.hold();
  try {
    const started = performance.now();
    const answer = await ask(service, city);
    return { answer, elapsedMs: performance.now() - started };
  } finally {
    release();
  }
}

Deno.test("REQUEST_DEADLINE_MS with OpenWeatherMap hanging serves the stale answer, not UPSTREAM_TIMEOUT", async (t) => {
  const variables = { REQUEST_DEADLINE_MS: "200", OPENWEATHER_TIMEOUT_MS: "10000" };
  await t.step("without a store", async () => {
    await using group = await startGroup(1, variables);
    const [service] = group.services as [RunningService];
    const fresh = await ask(service, "London");
    group.clock.advance(601_000);
    const { answer, elapsedMs } = await askWhileUpstreamHangs(service, group.upstream, "London");
    assert.deepEqual(answer, { ...fresh, stale: true });
    assert.equal(lastCacheResult(service), "stale");
    assert.ok(elapsedMs < 5_000, `answered after ${elapsedMs} ms`);
  });

  let redis: RedisServer | undefined;
  await t.step("with a store: the stale answer another instance fetched", async () => {
    redis = await startRedis();
    await using group = await startGroup(2, { ...variables, SHARED_STORE_URL: redis.url });
    const [a, b] = group.services as [RunningService, RunningService];
    const fresh = await ask(a, "London");
    group.clock.advance(601_000);
    const { answer } = await askWhileUpstreamHangs(b, group.upstream, "London");
    assert.deepEqual(answer, { ...fresh, stale: true });
    assert.equal(lastCacheResult(b), "stale");
  });
  await redis?.stop();
});

Deno.test("two instances on a real Redis share forecasts: one upstream call, and stale from either", async (t) => {
  await using redis = await startRedis();
  await using group = await startGroup(2, { SHARED_STORE_URL: redis.url });
  const [a, b] = group.services as [RunningService, RunningService];
  const forecast = async (service: RunningService) => {
    const response = await service.post("/data-action/forecast", { city_name: "New York" });
    assert.equal(response.status, 200);
    return await response.json();
  };
  const fresh = await forecast(a);
  assert.equal(fresh.city, "New York");

  await t.step("the other instance answers from the store, without calling", async () => {
    assert.deepEqual(await forecast(b), fresh);
    assert.equal(lastCacheResult(b), "shared");
    assert.deepEqual(group.upstream.requests.map((url) => url.pathname), ["/data/2.5/forecast"]);
  });
  await t.step("a weather request for the same place is its own entry", async () => {
    assert.equal((await ask(b, "New York")).city, "New York");
    assert.equal(group.upstream.requests.at(-1)!.pathname, "/data/2.5/weather");
  });
  await t.step(
    "past FORECAST_CACHE_TTL_S, with the upstream failing, stale from the store",
    async () => {
      group.clock.advance(1_801_000);
      group.upstream.respondWith(() => new Response("Bad Gateway", { status: 502 }));
      const c = await startService({
        OPENWEATHER_BASE_URL: group.upstream.url.href,
        OPENWEATHER_FORECAST_URL: group.upstream.forecastUrl.href,
        SHARED_STORE_URL: redis.url,
      }, { clock: group.clock });
      try {
        assert.deepEqual(await forecast(c), { ...fresh, stale: true });
        assert.equal(lastCacheResult(c), "stale");
      } finally {
        await c.close();
      }
    },
  );
});

for (const engine of ["redis", "kv"] as const) {
  Deno.test(`two instances on one store (${engine}) refresh a key ahead of expiry once`, async () => {
    await using redis = engine === "redis" ? await startRedis() : undefined;
    const url = redis?.url ?? `kv:${Deno.makeTempDirSync({ prefix: "kv-test-" })}/store.sqlite3`;
    await using group = await startGroup(2, {
      SHARED_STORE_URL: url,
      SHARED_STORE_INSTANCES: "2",
      // SQLite on a loaded machine can take longer than the default 150 ms.
      SHARED_STORE_TIMEOUT_MS: "1000",
    });
    const [a, b] = group.services as [RunningService, RunningService];
    const fresh = await ask(a, "London");
    // Each instance answers a caller from the answer (a from memory, b from the
    // store), so each plans its refresh, for the same moment: 540 s after it was stored.
    await ask(b, "London");
    await ask(a, "London");
    group.clock.advance(540_000);
    const outcome = (service: RunningService, name: string) =>
      service.metric(`weather_refreshes_total{action="weather",outcome="${name}"}`);
    const count = async (name: string) =>
      (await outcome(a, name) ?? 0) + (await outcome(b, name) ?? 0);
    await pollUntil("both planned refreshes to end", async () => {
      const ended = await count("ok") + await count("elsewhere") + await count("shared");
      return ended === 2 ? true : undefined;
    }, { intervalMs: 5 });
    // One called; the other found the key claimed (or, if it came later, the new answer).
    assert.equal(await count("ok"), 1);
    assert.equal(group.upstream.requests.length, 2);
    group.clock.advance(60_000);
    for (const service of [a, b]) assert.deepEqual(await ask(service, "London"), fresh);
    assert.equal(group.upstream.requests.length, 2);
  });
}

Deno.test("a store that fails is a cache miss and the local budget, never a failed request", async (t) => {
  await t.step("a store that accepts connections and never answers", async () => {
    // A TCP server that reads and never writes: connected, but no reply, ever.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const connections: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const connection of listener) connections.push(connection);
    })().catch(() => {});
    const { port } = listener.addr as Deno.NetAddr;
    const group = await startGroup(1, {
      SHARED_STORE_URL: `redis://:a-redis-password-123@127.0.0.1:${port}`,
      SHARED_STORE_TIMEOUT_MS: "50",
      SHARED_STORE_INSTANCES: "2",
      OPENWEATHER_MAX_CALLS_PER_MINUTE: "4",
      OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "100",
    });
    const [service] = group.services as [RunningService];
    try {
      assert.equal((await ask(service, "London")).city, "London");
      for (let i = 0; i < 4; i++) await ask(service, `Nowhere ${i}`);
      assert.equal(group.upstream.requests.length, 2, "4 / 2 instances = 2 calls");
      assert.equal(await service.metric('shared_store_up{backend="redis"}'), 0);
      const ready = await fetchWithin(new URL("/readyz", service.url));
      assert.equal(ready.status, 200);
      await ready.body?.cancel();
      assert.ok(!service.logLines.join("\n").includes("a-redis-password-123"));
      assert.equal(
        service.logLines.filter((line) => line.includes("Shared store unavailable")).length,
        1,
      );
    } finally {
      await group.close();
      listener.close();
      for (const connection of connections) connection.close();
      await accepting;
    }
  });

  await t.step("a store refusing the password", async () => {
    await using redis = await startRedis({ args: ["--requirepass", "the-right-password-42"] });
    await using group = await startGroup(1, {
      SHARED_STORE_URL: `redis://:the-wrong-password-42@127.0.0.1:${redis.port}`,
    });
    const [service] = group.services as [RunningService];
    assert.equal((await ask(service, "London")).city, "London");
    assert.equal((await ask(service, "London")).city, "London");
    assert.equal(group.upstream.requests.length, 1, "this instance's memory still caches");
    assert.equal(await service.metric('shared_store_up{backend="redis"}'), 0);
    const log = service.logLines.join("\n");
    assert.ok(!log.includes("the-wrong-password-42"));
    assert.equal(log.split("Shared store unavailable").length - 1, 1);
  });

  await t.step("a store holding garbage", async () => {
    await using redis = await startRedis();
    await using group = await startGroup(1, { SHARED_STORE_URL: redis.url });
    const [service] = group.services as [RunningService];
    const key = `genesys-weather:answer:${JSON.stringify(["city", "london", "", "metric", "en"])}`;
    assert.equal(await redis.command("SET", key, "{not json"), "+OK\r\n");
    assert.equal((await ask(service, "London")).city, "London");
    assert.equal(group.upstream.requests.length, 1);
    assert.equal(
      await service.metric('shared_store_errors_total{backend="redis",operation="decode"}'),
      1,
    );
    // The good answer replaced the garbage.
    assert.match(await redis.command("GET", key), /"observation"/);
  });
});

/** The service's own key for a city's answer: SHARED_STORE_PREFIX, `answer:`, cacheKey(). */
function answerKey(prefix: string, city: string, action: ActionName = "weather"): string {
  const query = {
    place: { kind: "city", name: city } as const,
    units: "metric",
    lang: "en",
  } as const;
  return `${prefix}answer:${cacheKey(query, action)}`;
}

Deno.test("an answer read back from the shared store is held to what the service writes", async (t) => {
  await using redis = await startRedis();
  const prefix = "poison-test:";
  const observation = { ...parseObservation(LONDON), name: "Poisoned" };
  const started = new TestClock().now();
  const year3000 = Date.parse("3000-01-01T00:00:00Z");

  /** Writes `stored` under London's key, asks, and says what the service answered. */
  async function askOver(stored: string, action: ActionName = "weather") {
    assert.equal(await redis.command("FLUSHALL"), "+OK\r\n");
    await using group = await startGroup(1, {
      SHARED_STORE_URL: redis.url,
      SHARED_STORE_PREFIX: prefix,
    });
    const [service] = group.services as [RunningService];
    const key = answerKey(prefix, "New York", action);
    assert.equal(await redis.command("SET", key, stored), "+OK\r\n");
    const response = await service.post(`/data-action/${action}`, { city_name: "New York" });
    assert.equal(response.status, 200);
    const answer = await response.json();
    return {
      answer,
      cache: lastCacheResult(service),
      upstreamCalls: group.upstream.requests.length,
      garbage: await service.metric(
        'shared_store_errors_total{backend="redis",operation="decode"}',
      ),
      storedNow: await redis.command("GET", key),
    };
  }

  /** Refused: counted as garbage, asked upstream, and replaced by the real answer. */
  async function assertRefused(stored: unknown, action: ActionName = "weather") {
    const text = typeof stored === "string" ? stored : JSON.stringify(stored);
    const seen = await askOver(text, action);
    const city = String(seen.answer.city);
    assert.ok(city === "New York", `answered for "${city.slice(0, 40)}"`);
    assert.equal(seen.cache, "miss");
    assert.equal(seen.upstreamCalls, 1);
    assert.equal(seen.garbage, 1);
    assert.doesNotMatch(seen.storedNow, /Poisoned/);
  }

  await t.step("stored in the year 3000: refused, not fresh until then", async () => {
    await assertRefused({ storedAt: year3000, observation });
  });
  await t.step("stored a minute ahead of this instance's clock: refused", async () => {
    await assertRefused({ storedAt: started + 60_000, observation });
  });
  await t.step("stored within the clock skew allowed (5 s ahead): served", async () => {
    const seen = await askOver(JSON.stringify({ storedAt: started + 5_000, observation }));
    assert.equal(seen.answer.city, "Poisoned");
    assert.equal(seen.cache, "shared");
    assert.equal(seen.upstreamCalls, 0);
    assert.equal(seen.garbage ?? 0, 0);
  });
  await t.step("a forecast stored in the future: refused as well", async () => {
    const forecast = {
      list: [{
        dt: started / 1000 + 3600,
        main: { temp: 20 },
        weather: [{ description: "x" }],
        pop: 0,
      }],
      city: { name: "Poisoned", timezone: 0 },
    };
    await assertRefused({ storedAt: year3000, forecast }, "forecast");
  });
  await t.step("over 64 KiB, however well-formed: refused before it is parsed", async () => {
    await assertRefused({
      storedAt: started,
      observation: { ...observation, name: "Poisoned" + "x".repeat(70_000) },
    });
  });
  await t.step("an answer and a not-found at once: refused, not read as either", async () => {
    await assertRefused({ storedAt: started, observation, notFound: true });
  });
  await t.step("a field the service never writes: refused", async () => {
    await assertRefused({ storedAt: started, observation, note: "Poisoned" });
    await assertRefused({ storedAt: started, notFound: true, city: "Poisoned" });
  });
  await t.step("an answer too large to read back is served, and not stored", async () => {
    assert.equal(await redis.command("FLUSHALL"), "+OK\r\n");
    // An older answer, past its TTL: it must not outlive the newer one that could not be stored.
    const older = JSON.stringify({ storedAt: started - 601_000, observation });
    assert.equal(await redis.command("SET", answerKey(prefix, "New York"), older), "+OK\r\n");
    await using group = await startGroup(1, {
      SHARED_STORE_URL: redis.url,
      SHARED_STORE_PREFIX: prefix,
    });
    const [service] = group.services as [RunningService];
    const name = "New York" + " ".repeat(70_000) + ".";
    group.upstream.respondWith(() => Response.json({ ...LONDON, name }));
    assert.equal((await ask(service, "New York")).city, name);
    assert.equal(await redis.command("GET", answerKey(prefix, "New York")), "$-1\r\n");
    assert.equal(await service.metric('shared_store_up{backend="redis"}'), 1);
  });
  await t.step("a storedAt that is no time: refused", async () => {
    await assertRefused({ storedAt: -1, observation });
    await assertRefused({ storedAt: started + 0.5, observation });
  });
});

Deno.test("the shared store keeps one known marker per place, whatever the units, language and action", async () => {
  await using redis = await startRedis();
  const prefix = "known-test:";
  await using group = await startGroup(2, {
    SHARED_STORE_URL: redis.url,
    SHARED_STORE_PREFIX: prefix,
  });
  const [a, b] = group.services as [RunningService, RunningService];
  let turn = 0;
  for (const action of ["weather", "forecast"]) {
    for (const units of ["metric", "imperial", "standard"]) {
      for (const lang of ["en", "de"]) {
        const service = turn++ % 2 === 0 ? a : b;
        const response = await service.post(`/data-action/${action}`, {
          city_name: "London",
          units,
          lang,
        });
        assert.equal(response.status, 200);
        assert.equal((await response.json()).city, "London");
      }
    }
  }
  const keys = (await redis.command("KEYS", `${prefix}known:*`)).split("\r\n")
    .filter((line) => line.startsWith(prefix));
  assert.deepEqual(keys, [`${prefix}known:${JSON.stringify(["city", "london", ""])}`]);
  // b asked only variants a had asked before it: all known, the first through the store alone.
  const spentByB = await b.metric('openweather_budget_spent_total{kind="known"}');
  assert.equal(spentByB, 6);
  assert.equal(await b.metric('openweather_budget_spent_total{kind="unknown"}'), undefined);
});
