/**
 * The metrics the alert rules in deploy/ depend on, by value: what each
 * weather answer counts as, the exported deadline, the quota budget, and the
 * key-set gauge that exists only where there is a key set.
 */

import assert from "node:assert/strict";
import { TestClock } from "../support/clock.ts";
import { startFakeKeyHost } from "../support/fake_jwks.ts";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { type RunningService, startService } from "../support/service.ts";
import { generateTestKey, signToken } from "../support/tokens.ts";
import { fetchWithin } from "../support/wait.ts";

const ISSUER = "https://idp.example.test/";
const AUDIENCE = "api://genesys-weather";

async function scrape(service: RunningService): Promise<(series: string) => number | undefined> {
  const text = await (await fetchWithin(new URL("/metrics", service.url))).text();
  return (series) => {
    const line = text.split("\n").find((line) => line.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
}

Deno.test("/metrics weather_answers_total, deadline and call budget follow the service", async (t) => {
  const clock = new TestClock();
  const upstream = startFakeOpenWeather();
  const service = await startService({
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "5",
    // Every name here is new: let them spend the whole budget, which is what this test counts.
    OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "100",
    REQUEST_DEADLINE_MS: "2500",
  }, { clock });
  try {
    await t.step("known outcomes start at 0, and the deadline is REQUEST_DEADLINE_MS", async () => {
      const value = await scrape(service);
      assert.equal(value('weather_answers_total{action="weather",outcome="ok"}'), 0);
      assert.equal(value('weather_answers_total{action="weather",outcome="UPSTREAM_TIMEOUT"}'), 0);
      assert.equal(
        value('openweather_calls_total{action="weather",outcome="UPSTREAM_AUTH_FAILED"}'),
        0,
      );
      assert.equal(value('weather_cache_lookups_total{action="weather",result="stale"}'), 0);
      assert.equal(value("weather_request_deadline_seconds"), 2.5);
      assert.equal(value("openweather_call_budget_remaining"), 5);
      // AUTH_MODE=none: no key set, so no gauge that would read as "unusable".
      assert.equal(value("auth_key_set_usable"), undefined);
    });

    await t.step(
      "every answer counts once: ok, upstream trouble and unusable values in a 200, an HTTP error",
      async () => {
        const bodies = [{ city_name: "London" }, { city_name: "Atlantis" }, { city: "x" }, [1]];
        const statuses = [];
        for (const body of bodies) {
          const response = await service.post("/data-action/weather", body);
          statuses.push(response.status);
          await response.body?.cancel();
        }
        assert.deepEqual(statuses, [200, 200, 200, 400]);
        const value = await scrape(service);
        assert.equal(value('weather_answers_total{action="weather",outcome="ok"}'), 1);
        assert.equal(value('weather_answers_total{action="weather",outcome="CITY_NOT_FOUND"}'), 1);
        assert.equal(value('weather_answers_total{action="weather",outcome="INVALID_INPUT"}'), 1);
        assert.equal(value('weather_answers_total{action="weather",outcome="INVALID_BODY"}'), 1);
      },
    );

    await t.step(
      "the budget falls by one per upstream call and refills after a minute",
      async () => {
        assert.equal((await scrape(service))("openweather_call_budget_remaining"), 3);
        for (const city of ["Paris", "Berlin", "Madrid", "Rome"]) {
          await (await service.post("/data-action/weather", { city_name: city })).body?.cancel();
        }
        const value = await scrape(service);
        assert.equal(value("openweather_call_budget_remaining"), 0);
        assert.equal(value('openweather_calls_total{action="weather",outcome="throttled"}'), 1);
        assert.equal(
          value('weather_answers_total{action="weather",outcome="UPSTREAM_RATE_LIMITED"}'),
          1,
        );
        clock.advance(60_000);
        assert.equal((await scrape(service))("openweather_call_budget_remaining"), 5);
      },
    );
  } finally {
    await service.close();
    await upstream.close();
  }
});

Deno.test("/metrics auth_key_set_usable reads 0 while the key set cannot be fetched, then 1", async () => {
  const clock = new TestClock();
  const key = await generateTestKey("key-1");
  const keyHost = startFakeKeyHost([key.publicJwk]);
  keyHost.setMode("down");
  const service = await startService({
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: keyHost.url.href,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
  }, { clock });
  try {
    await service.waitForLog("Key set could not be fetched");
    assert.equal((await scrape(service))("auth_key_set_usable"), 0);
    keyHost.setMode("serve");
    clock.advance(30_000); // The refetch cooldown.
    const token = await signToken({
      key,
      nowS: clock.seconds(),
      claims: { iss: ISSUER, aud: AUDIENCE },
    });
    const response = await service.post("/data-action/weather", { city_name: "" }, {
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 200, "the token was verified (then the body's values refused)");
    assert.equal((await response.json()).error_code, "INVALID_INPUT");
    assert.equal((await scrape(service))("auth_key_set_usable"), 1);
  } finally {
    await service.close();
    await keyHost.close();
  }
});
