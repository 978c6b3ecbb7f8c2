/**
 * POST /data-action/forecast through real HTTP, against the stand-in's
 * 40-step forecast for New York (UTC-4), whose "today" crosses UTC midnight.
 * Every expected value is worked out by hand from forecast_fixture.ts's
 * first 13 steps; the comments show the working.
 */

import assert from "node:assert/strict";
import { TestClock } from "../support/clock.ts";
import { startWithStandIn } from "../support/service.ts";

const FORECAST = "/data-action/forecast";
const WEATHER = "/data-action/weather";

/** TestClock's start: 2026-06-01T12:00Z, 08:00 in New York; the first step is 15:00Z. */
const START = Date.parse("2026-06-01T12:00:00Z");

async function setUp(variables: Record<string, string> = {}, now = START) {
  const started = await startWithStandIn(variables, new TestClock(now));
  const ask = async (body: Record<string, unknown>) => {
    const response = await started.service.post(FORECAST, body);
    assert.equal(response.status, 200);
    return await response.json();
  };
  return { ...started, ask };
}

/** The forecast answer README.md shows. */
function readmeForecast(): unknown {
  const readme = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
  const block = [...readme.matchAll(/```json\n([\s\S]*?)```/g)]
    .find(([, json]) => json!.includes('"forecast_at"'));
  assert.ok(block, "README.md has no forecast example");
  return JSON.parse(block[1]!);
}

/** The answer for New York at 08:00 local time, in Celsius. */
const NEW_YORK_MORNING = {
  // Steps 1 and 2 (15:00Z, 18:00Z): the worse is "light rain" (rain beats clouds);
  // the highest pop is 0.55, which reaches 50 %; neither step is severe.
  next_hours_condition: "Light rain",
  next_hours_condition_group: "rain",
  next_hours_precipitation_probability: 55,
  next_hours_rain_expected: true,
  next_hours_severe: false,
  // Steps 1 to 5 (11:00 to 23:00 local, the last two after UTC midnight):
  // 17.5 rounds to 18, 24.6 to 25; pop up to 0.8; the worst group is rain (501).
  today_temperature_min: 18,
  today_temperature_max: 25,
  today_precipitation_probability: 80,
  today_condition_group: "rain",
  today_severe: false,
  // Steps 6 to 13 (02:00 to 23:00 local on 2 June): 15.4 and 27.8; pop 1;
  // a thunderstorm (211) at 14:00, which is severe, and heavy rain (502) after it.
  tomorrow_temperature_min: 15,
  tomorrow_temperature_max: 28,
  tomorrow_precipitation_probability: 100,
  tomorrow_condition_group: "thunderstorm",
  tomorrow_severe: true,
  summary: "New York: Light rain, 55%; tomorrow: Thunderstorm, 15–28 degrees Celsius.",
  city: "New York",
  country: "US",
  units: "metric",
  temperature_unit: "celsius",
  lang: "en",
  stale: false,
  forecast_at: "2026-06-01T15:00:00.000Z",
};

Deno.test("POST /data-action/forecast answers the next hours, today and tomorrow in the place's own days", async (t) => {
  await using f = await setUp();

  await t.step("every field as worked out by hand, in metric by default", async () => {
    const response = await f.service.post(FORECAST, { city_name: "New York" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
    const body = await response.json();
    assert.deepEqual(body, NEW_YORK_MORNING);
    assert.deepEqual(body, readmeForecast(), "README.md shows this very answer");
    const sent = f.upstream.requests.at(-1)!;
    assert.equal(sent.pathname, "/data/2.5/forecast");
    assert.equal(sent.searchParams.get("q"), "New York");
    assert.equal(sent.searchParams.get("units"), "metric");
    assert.equal(sent.searchParams.get("lang"), "en");
  });

  await t.step("imperial: whole Fahrenheit degrees, converted before rounding", async () => {
    const answer = await f.ask({ postal_code: "10001", country_code: "US", units: "imperial" });
    // 17.5 °C = 63.5 °F, rounds to 64; 24.6 = 76.28; 15.4 = 59.72; 27.8 = 82.04.
    assert.deepEqual(
      [
        answer.today_temperature_min,
        answer.today_temperature_max,
        answer.tomorrow_temperature_min,
        answer.tomorrow_temperature_max,
      ],
      [64, 76, 60, 82],
    );
    assert.equal(answer.temperature_unit, "fahrenheit");
    assert.equal(
      answer.summary,
      "New York: Light rain, 55%; tomorrow: Thunderstorm, 60–82 degrees Fahrenheit.",
    );
  });

  await t.step("lang from Call.Language: ICU's words around OpenWeatherMap's", async () => {
    const answer = await f.ask({ city_name: "New York", lang: "es-us" });
    assert.equal(answer.lang, "es");
    assert.equal(f.upstream.requests.at(-1)!.searchParams.get("lang"), "es");
    // ICU writes a no-break space before the percent sign in Spanish.
    assert.equal(
      answer.summary,
      "New York: Light rain y 55\u00a0%; mañana: Thunderstorm y 15-28 grados Celsius.",
    );
  });

  await t.step("the same request from many callers costs one upstream call", async () => {
    const before = f.upstream.requests.length;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => f.ask({ city_name: "Tokyo" })),
    );
    assert.equal(f.upstream.requests.length - before, 1);
    assert.ok(answers.every((answer) => answer.city === "Tokyo" && answer.stale === false));
  });

  await t.step("the access log and the metrics name the action", async () => {
    const access = f.service.logLines.map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === "request" && entry.path === FORECAST);
    assert.ok(access.length > 0);
    assert.ok(access.every((entry) => entry.action === "forecast"));
    const metrics = await (await fetch(new URL("/metrics", f.service.url))).text();
    assert.match(metrics, /^weather_answers_total\{action="forecast",outcome="ok"\} 23$/m);
    assert.match(metrics, /^weather_answers_total\{action="weather",outcome="ok"\} 0$/m);
    // New York in metric, imperial (by postal code) and Spanish, and Tokyo.
    assert.match(metrics, /^openweather_calls_total\{action="forecast",outcome="ok"\} 4$/m);
  });
});

Deno.test("POST /data-action/forecast leaves today out once no step of today remains", async () => {
  // 03:30Z on 2 June is 23:30 on 1 June in New York: the next step, 06:00Z, is tomorrow's.
  await using f = await setUp({}, Date.parse("2026-06-02T03:30:00Z"));
  const answer = await f.ask({ city_name: "New York" });
  for (const field of Object.keys(answer)) assert.ok(!field.startsWith("today_"), field);
  assert.deepEqual(
    {
      next_hours_condition: answer.next_hours_condition,
      next_hours_precipitation_probability: answer.next_hours_precipitation_probability,
      next_hours_rain_expected: answer.next_hours_rain_expected,
      tomorrow_temperature_min: answer.tomorrow_temperature_min,
      tomorrow_temperature_max: answer.tomorrow_temperature_max,
      forecast_at: answer.forecast_at,
    },
    {
      // Steps 6 and 7: clear, no chance of rain. Tomorrow is still steps 6 to 13.
      next_hours_condition: "Clear sky",
      next_hours_precipitation_probability: 0,
      next_hours_rain_expected: false,
      tomorrow_temperature_min: 15,
      tomorrow_temperature_max: 28,
      forecast_at: "2026-06-02T06:00:00.000Z",
    },
  );
});

Deno.test("POST /data-action/forecast serves the last forecast, marked stale, while OpenWeatherMap fails", async (t) => {
  await using f = await setUp({ FORECAST_CACHE_TTL_S: "1800" });
  const fresh = await f.ask({ city_name: "New York" });
  f.upstream.respondWith(() => new Response("Bad Gateway", { status: 502 }));

  await t.step("within FORECAST_CACHE_TTL_S the cache answers, without calling", async () => {
    const calls = f.upstream.requests.length;
    f.clock.advance(1_799_000);
    assert.deepEqual(await f.ask({ city_name: "New York" }), fresh);
    assert.equal(f.upstream.requests.length, calls);
  });

  await t.step("past it, the failing upstream means the last forecast, stale", async () => {
    f.clock.advance(2_000);
    assert.deepEqual(await f.ask({ city_name: "New York" }), { ...fresh, stale: true });
    const metrics = await (await fetch(new URL("/metrics", f.service.url))).text();
    assert.match(metrics, /^weather_cache_lookups_total\{action="forecast",result="stale"\} 1$/m);
  });
});

Deno.test("both actions spend one OPENWEATHER_MAX_CALLS_PER_MINUTE budget", async () => {
  await using f = await setUp({
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "2",
    OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "100",
  });
  const weather = await (await f.service.post(WEATHER, { city_name: "London" })).json();
  assert.equal(weather.city, "London");
  assert.equal((await f.ask({ city_name: "London" })).city, "London");
  // The third call, whichever action asks, is one too many.
  assert.equal((await f.ask({ city_name: "Tokyo" })).error_code, "UPSTREAM_RATE_LIMITED");
  const refused = await (await f.service.post(WEATHER, { city_name: "Tokyo" })).json();
  assert.equal(refused.error_code, "UPSTREAM_RATE_LIMITED");
  assert.equal(f.upstream.requests.length, 2);
  // A minute later the budget is whole again, for either.
  f.clock.advance(60_000);
  assert.equal((await f.ask({ city_name: "Tokyo" })).city, "Tokyo");
});

Deno.test("POST /data-action/forecast answers unusable values and upstream trouble as the weather action does", async (t) => {
  await using f = await setUp({ WEATHER_STALE_MAX_S: "0", OPENWEATHER_BACKOFF_S: "0" });

  await t.step("a place not given: 200 with INVALID_INPUT", async () => {
    const answer = await f.ask({ units: "metric" });
    assert.equal(answer.error_code, "INVALID_INPUT");
    assert.match(answer.error_message, /^Give a place/);
  });

  await t.step("a body that is not a JSON object: 400", async () => {
    const response = await f.service.post(FORECAST, [1]);
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error_code, "INVALID_BODY");
  });

  await t.step("an unknown city: CITY_NOT_FOUND", async () => {
    assert.equal((await f.ask({ city_name: "Atlantis" })).error_code, "CITY_NOT_FOUND");
  });

  await t.step(
    "a forecast without the place's UTC offset is not one: UPSTREAM_UNAVAILABLE",
    async () => {
      f.upstream.respondWith(() =>
        Response.json({ cod: "200", list: [], city: { name: "Nowhere", country: "GB" } })
      );
      const answer = await f.ask({ city_name: "Paris" });
      assert.equal(answer.error_code, "UPSTREAM_UNAVAILABLE");
    },
  );
});
