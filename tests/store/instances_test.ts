/**
 * Two or three real service processes (the start task's exact flags) on one
 * real Redis, against the OpenWeatherMap stand-in that counts every call.
 */

import assert from "node:assert/strict";
import {
  ERROR_BODIES,
  type FakeOpenWeather,
  startFakeOpenWeather,
  TEST_API_KEY,
} from "../support/fake_openweather.ts";
import { postWeather, type ServiceProcess, spawnService } from "../support/process.ts";
import { startRedis } from "../support/redis.ts";
import { fetchWithin, pollUntil } from "../support/wait.ts";
import { UPSTREAM_ERROR_CODES } from "../../src/weather/contract.ts";

interface Instance {
  process: ServiceProcess;
  url: URL;
  ask(city: string): Promise<Record<string, unknown>>;
  metric(series: string): Promise<number | undefined>;
  /** The `cache` field of the last access log line. */
  lastCacheResult(): unknown;
}

/** `count` instances, started together; `await using` stops them all. */
async function startInstances(
  count: number,
  upstream: FakeOpenWeather,
  env: Record<string, string>,
): Promise<Instance[] & AsyncDisposable> {
  const processes = Array.from({ length: count }, () =>
    spawnService({
      AUTH_MODE: "none",
      OPENWEATHER_API_KEY: TEST_API_KEY,
      OPENWEATHER_BASE_URL: upstream.url.href,
      HOST: "127.0.0.1",
      PORT: "0",
      ...env,
    }));
  const stopAll = async () => {
    await Promise.all(processes.map((process) => process.stop()));
  };
  const instances: Instance[] & AsyncDisposable = Object.assign([], {
    [Symbol.asyncDispose]: stopAll,
  });
  try {
    for (const process of processes) {
      const url = await process.listening(15_000);
      instances.push({
        process,
        url,
        async ask(city) {
          const asked = weatherLines(process).length;
          const response = await postWeather(url, city);
          assert.equal(response.status, 200);
          assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
          const answer = await response.json();
          // The access log is written in batches, a few milliseconds after the answer.
          await process.waitForLine(
            () => weatherLines(process).length > asked,
            "the request's access-log line",
          );
          return answer;
        },
        async metric(series) {
          const text = await (await fetchWithin(new URL("/metrics", url))).text();
          const line = text.split("\n").find((line) => line.startsWith(`${series} `));
          return line === undefined ? undefined : Number(line.slice(series.length + 1));
        },
        lastCacheResult: () => weatherLines(process).at(-1)?.cache,
      });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return instances;
}

/** The access-log lines of weather requests, in order. */
function weatherLines(process: ServiceProcess): Record<string, unknown>[] {
  return process.lines.filter((line) =>
    line.msg === "request" && line.path === "/data-action/weather"
  );
}

/** A weather answer or a documented failure, nothing else. */
function assertWellFormed(answer: Record<string, unknown>, city: string): void {
  if ("error_code" in answer) {
    assert.ok(
      (UPSTREAM_ERROR_CODES as string[]).includes(String(answer.error_code)),
      `${city}: ${JSON.stringify(answer)}`,
    );
    assert.equal(typeof answer.error_message, "string");
  } else {
    assert.equal(typeof answer.temperature, "number", `${city}: ${JSON.stringify(answer)}`);
    assert.equal(typeof answer.stale, "boolean");
  }
}

const STORE_UP = 'shared_store_up{backend="redis"}';

Deno.test("two instances on one Redis: one call per city, one budget", async (t) => {
  await using redis = await startRedis();
  await using upstream = startFakeOpenWeather();
  await using instances = await startInstances(2, upstream, {
    SHARED_STORE_URL: redis.url,
    SHARED_STORE_PREFIX: "two:",
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "5",
    OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "100",
  });
  const [a, b] = [...instances] as [Instance, Instance];
  await t.step("a city asked on one instance is a cache hit on the other", async () => {
    assert.equal((await a.ask("London")).city, "London");
    assert.equal(a.lastCacheResult(), "miss");
    const fromB = await b.ask("london");
    assert.equal(fromB.city, "London");
    assert.equal(fromB.stale, false);
    assert.equal(b.lastCacheResult(), "shared");
    assert.equal(upstream.requests.length, 1);
    // Now in b's memory too: the next ask costs no store round trip.
    await b.ask("London");
    assert.equal(b.lastCacheResult(), "hit");
  });

  await t.step("20 distinct cities over both, limit 5 a minute: at most 5 calls", async () => {
    const answers = [];
    for (let i = 0; i < 20; i++) {
      const city = `Nowhere ${i}`;
      const answer = await instances[i % 2]!.ask(city);
      assertWellFormed(answer, city);
      answers.push(answer.error_code);
    }
    assert.equal(upstream.requests.length, 5, "London and four more, across both instances");
    assert.equal(answers.filter((code) => code === "CITY_NOT_FOUND").length, 4);
    assert.equal(answers.filter((code) => code === "UPSTREAM_RATE_LIMITED").length, 16);
    const spent = async (kind: string) =>
      ((await a.metric(`openweather_budget_spent_total{kind="${kind}"}`)) ?? 0) +
      ((await b.metric(`openweather_budget_spent_total{kind="${kind}"}`)) ?? 0);
    assert.equal(await spent("known"), 0, "London was new when first asked");
    assert.equal(await spent("unknown"), 5);
    assert.equal(await a.metric(STORE_UP), 1);
  });
});

Deno.test("three instances on one Redis survive the store dying, and share again once it is back", async (t) => {
  await using redis = await startRedis();
  await using upstream = startFakeOpenWeather();
  await using instances = await startInstances(3, upstream, {
    SHARED_STORE_URL: redis.url,
    SHARED_STORE_PREFIX: "three:",
    SHARED_STORE_INSTANCES: "3",
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "6",
    OPENWEATHER_BACKOFF_S: "600",
  });
  const [a, b, c] = [...instances] as [Instance, Instance, Instance];
  await t.step("London is fetched once for all three", async () => {
    for (const instance of instances) assert.equal((await instance.ask("London")).city, "London");
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual([b.lastCacheResult(), c.lastCacheResult()], ["shared", "shared"]);
  });

  await t.step(
    "store killed: well-formed answers, the budget near the limit, still ready",
    async () => {
      await redis.kill();
      for (let i = 0; i < 21; i++) {
        const city = i % 7 === 0 ? "London" : `Nowhere ${i}`;
        assertWellFormed(await instances[i % 3]!.ask(city), city);
      }
      // Each instance keeps to 6 / 3 = 2 calls a minute, London's included.
      assert.ok(upstream.requests.length <= 6, `${upstream.requests.length} calls`);
      for (const instance of instances) {
        assert.equal(await instance.metric(STORE_UP), 0);
        const errors = await instance.metric(
          'shared_store_errors_total{backend="redis",operation="connection"}',
        );
        assert.ok(errors !== undefined && errors >= 1, `errors: ${errors}`);
        const ready = await fetchWithin(new URL("/readyz", instance.url));
        assert.equal(ready.status, 200);
        await ready.body?.cancel();
        const downLines = instance.process.lines.filter((line) =>
          String(line.msg).startsWith("Shared store unavailable")
        );
        assert.equal(downLines.length, 1, "the change of state is logged once");
      }
    },
  );

  await t.step("store back: sharing resumes", async () => {
    await redis.restart();
    for (const instance of instances) {
      await pollUntil(
        `${STORE_UP} to read 1 again`,
        async () => (await instance.metric(STORE_UP)) === 1 || undefined,
        { intervalMs: 100 },
      );
      await instance.process.waitForLine(
        (line) => String(line.msg).startsWith("Shared store available again"),
        "the Shared store available again line",
      );
    }
    const before = upstream.requests.length;
    assert.equal((await a.ask("São Paulo")).city, "São Paulo");
    assert.equal((await c.ask("são paulo")).city, "São Paulo");
    assert.equal(c.lastCacheResult(), "shared");
    assert.equal(upstream.requests.length, before + 1);
  });

  await t.step("a 429 seen by one instance stops the others calling", async () => {
    upstream.respondWith(() => Response.json(ERROR_BODIES[429], { status: 429 }));
    assert.equal((await a.ask("東京")).error_code, "UPSTREAM_RATE_LIMITED");
    const calls = upstream.requests.length;
    assert.equal((await b.ask("Paris")).error_code, "UPSTREAM_RATE_LIMITED");
    assert.equal((await c.ask("Lima")).error_code, "UPSTREAM_RATE_LIMITED");
    assert.equal(upstream.requests.length, calls, "b and c did not call");
    assert.equal(
      await b.metric('openweather_budget_refused_total{kind="unknown",reason="backoff"}'),
      1,
    );
  });
});
