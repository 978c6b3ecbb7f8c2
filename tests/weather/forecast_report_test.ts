/**
 * toForecastReport()'s rules one by one, a property test over any forecast
 * and any time, and parseForecast() held to ForecastSchema.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { ForecastReportSchema, ForecastSchema } from "../../tools/contract_schema.ts";
import type { ForecastReport } from "../../src/weather/contract.ts";
import { type Forecast, parseForecast } from "../../src/weather/forecast.ts";
import { type ForecastReportOptions, toForecastReport } from "../../src/weather/forecast_report.ts";
import { UnexpectedShapeError } from "../../src/weather/observation.ts";
import { FORECAST_START_S, forecastAnswer } from "../support/forecast_fixture.ts";

const NEW_YORK = parseForecast(
  forecastAnswer({ name: "New York", country: "US", timezone: -14400 }, "metric"),
);
const HOUR_MS = 3_600_000;

function options(overrides: Partial<ForecastReportOptions> = {}): ForecastReportOptions {
  return {
    units: "metric",
    lang: "en",
    stale: false,
    now: FORECAST_START_S * 1000 - 3 * HOUR_MS,
    severeWindMetresPerSecond: 17.2,
    rainProbabilityPercent: 50,
    ...overrides,
  };
}

/** The time just before step `n` (1-based) of the fixture: the window is steps n and n + 1. */
function justBeforeStep(n: number): number {
  return (FORECAST_START_S + (n - 1) * 3 * 3600) * 1000 - 60_000;
}

function report(forecast: Forecast, overrides: Partial<ForecastReportOptions> = {}) {
  const answer = toForecastReport(forecast, options(overrides));
  assert.ok(answer !== undefined);
  return answer;
}

Deno.test("toForecastReport(): rain is expected at the threshold, or on any rain or snow volume", async (t) => {
  await t.step(
    "steps 13 and 14 (pop 0.4 and 0, no volume): expected from 40 %, not at 50 %",
    () => {
      const now = justBeforeStep(13);
      const at40 = report(NEW_YORK, { now, rainProbabilityPercent: 40 });
      assert.equal(at40.next_hours_precipitation_probability, 40);
      assert.equal(at40.next_hours_rain_expected, true);
      assert.equal(report(NEW_YORK, { now }).next_hours_rain_expected, false);
    },
  );
  await t.step("a step with rain or snow volume makes rain expected whatever its pop", () => {
    for (const volume of [{ rain: { "3h": 0.1 } }, { snow: { "3h": 0.3 } }]) {
      const forecast = structuredClone(NEW_YORK);
      Object.assign(forecast.list[13]!, volume);
      const answer = report(forecast, { now: justBeforeStep(13), rainProbabilityPercent: 100 });
      assert.equal(answer.next_hours_rain_expected, true);
    }
  });
});

Deno.test("toForecastReport(): severe reasons rank as the weather action ranks them", async (t) => {
  await t.step("tomorrow's thunderstorm at step 10 is next hours' reason from step 9 on", () => {
    const answer = report(NEW_YORK, { now: justBeforeStep(9) });
    assert.equal(answer.next_hours_severe, true);
    assert.equal(answer.next_hours_severe_reason, "thunderstorm");
    assert.equal(answer.next_hours_condition, "Thunderstorm");
  });
  await t.step("the thunderstorm outranks the heavy rain after it (steps 10 and 11)", () => {
    assert.equal(
      report(NEW_YORK, { now: justBeforeStep(10) }).next_hours_severe_reason,
      "thunderstorm",
    );
  });
  await t.step("heavy rain alone (steps 11 and 12)", () => {
    assert.equal(
      report(NEW_YORK, { now: justBeforeStep(11) }).next_hours_severe_reason,
      "heavy_rain",
    );
  });
  await t.step("wind at the threshold, in mph when the units are imperial", () => {
    const imperial = parseForecast(
      forecastAnswer({ name: "New York", country: "US", timezone: -14400 }, "imperial"),
    );
    // Step 10's wind is 9.8 m/s, sent as 21.92 mph (9.799 m/s): above 9.7, below 9.9.
    const windy = { now: justBeforeStep(9), severeWindMetresPerSecond: 9.7 };
    const forecast = structuredClone(imperial);
    forecast.list[9]!.weather[0]!.id = 800;
    assert.equal(
      report(forecast, { ...windy, units: "imperial" }).next_hours_severe_reason,
      "high_wind",
    );
    assert.equal(
      report(forecast, { ...windy, units: "imperial", severeWindMetresPerSecond: 9.9 })
        .next_hours_severe,
      false,
    );
  });
});

Deno.test("toForecastReport(): a forecast whose every step is past is no answer", () => {
  const afterLast = (FORECAST_START_S + 40 * 3 * 3600) * 1000;
  assert.equal(toForecastReport(NEW_YORK, options({ now: afterLast })), undefined);
});

Deno.test("toForecastReport(): the day of each step is the place's, whatever its offset", () => {
  // The same steps at UTC+14 (Kiritimati), at 2026-05-31T18:00Z: 08:00 on 1 June there.
  const kiritimati = { ...NEW_YORK, city: { ...NEW_YORK.city, timezone: 14 * 3600 } };
  const answer = report(kiritimati, { now: Date.parse("2026-05-31T18:00:00Z") });
  // 1 June there ends at 10:00Z on 1 June, before the first step (15:00Z): today is absent.
  // 2 June there runs from 10:00Z on 1 June to 10:00Z on 2 June: steps 1 to 7,
  // 21.4 down to 15.4 and up to 24.6.
  assert.equal(answer.today_temperature_min, undefined);
  assert.deepEqual([answer.tomorrow_temperature_min, answer.tomorrow_temperature_max], [15, 25]);
});

/**
 * OpenWeatherMap's words (descriptions, place names) without digits: the
 * summary is checked for "-0" in the numbers the service writes, and a
 * generated description of "-0" would be a false alarm.
 */
const words = fc.string({ maxLength: 12 }).filter((text) => !/\d/.test(text));

/** A forecast step: any condition id, temperature, wind, pop and volumes OpenWeatherMap could send. */
const step = fc.record({
  main: fc.record({ temp: fc.double({ min: -90, max: 400, noNaN: true }) }),
  weather: fc.array(
    fc.record(
      { id: fc.integer({ min: 200, max: 804 }), description: words },
      {
        requiredKeys: ["description"],
      },
    ),
    { minLength: 1, maxLength: 2 },
  ),
  wind: fc.record({ speed: fc.double({ min: 0, max: 80, noNaN: true }) }, { requiredKeys: [] }),
  pop: fc.double({ min: 0, max: 1, noNaN: true }),
  rain: fc.record({ "3h": fc.double({ min: 0, max: 50, noNaN: true }) }, { requiredKeys: [] }),
  snow: fc.record({ "3h": fc.double({ min: 0, max: 50, noNaN: true }) }, { requiredKeys: [] }),
}, { requiredKeys: ["main", "weather", "pop"] });

const forecast = fc.record({
  start: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
  steps: fc.array(step, { minLength: 1, maxLength: 40 }),
  timezone: fc.integer({ min: -12 * 3600, max: 14 * 3600 }),
  name: fc.option(words, { nil: undefined }),
}).map(({ start, steps, timezone, name }): Forecast => ({
  list: steps.map((item, index) => ({ ...item, dt: start + index * 3 * 3600 })),
  city: { ...(name === undefined ? {} : { name }), timezone },
}));

function assertNoNulls(value: unknown, path = "report"): void {
  assert.notEqual(value, null, `${path} is null`);
  if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) assertNoNulls(inner, `${path}.${key}`);
  }
}

Deno.test("toForecastReport() keeps the contract for any forecast at any time", () => {
  fc.assert(
    fc.property(
      forecast,
      fc.integer({ min: -2 * 86_400, max: 6 * 86_400 }),
      fc.constantFrom("metric", "imperial", "standard"),
      fc.constantFrom("en", "es", "ja", "ar", "pt_br"),
      fc.integer({ min: 1, max: 100 }),
      (forecast, offsetS, units, lang, rainProbabilityPercent) => {
        const now = (forecast.list[0]!.dt + offsetS) * 1000;
        const answer = toForecastReport(forecast, {
          ...options({ units, lang, now, rainProbabilityPercent }),
        });
        const remaining = forecast.list.filter((item) => item.dt * 1000 > now);
        if (remaining.length === 0) return assert.equal(answer, undefined);
        assert.ok(answer !== undefined);
        assertNoNulls(answer);
        // Every field the schema knows, of its type and range, and no other field.
        const strict: ForecastReport = ForecastReportSchema.strict().parse(answer);
        assert.deepEqual(strict, answer);
        for (const day of ["today", "tomorrow"] as const) {
          const min = answer[`${day}_temperature_min`];
          const max = answer[`${day}_temperature_max`];
          if (min === undefined) {
            for (const field of Object.keys(answer)) assert.ok(!field.startsWith(`${day}_`));
            continue;
          }
          assert.ok(max !== undefined && min <= max, `${day}: ${min} > ${max}`);
          // A caller never hears "minus zero".
          assert.ok(!Object.is(min, -0) && !Object.is(max, -0), `${day}: -0`);
        }
        assert.doesNotMatch(answer.summary, /(^|[^\d.,])[-\u2212]0(?![\d.,])/);
        assert.equal(answer.forecast_at, new Date(remaining[0]!.dt * 1000).toISOString());
        assert.ok(answer.summary.endsWith("."));
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("parseForecast() agrees with ForecastSchema", async (t) => {
  const agrees = (value: unknown) => {
    const parsed = ForecastSchema.safeParse(value);
    let read: unknown;
    try {
      read = parseForecast(value);
    } catch (error) {
      assert.ok(error instanceof UnexpectedShapeError, `threw ${error}`);
      read = undefined;
    }
    assert.deepStrictEqual(read, parsed.success ? parsed.data : undefined);
  };
  await t.step("the stand-in's forecast, its other fields dropped", () => {
    const answer = forecastAnswer({ name: "Tokyo", country: "JP", timezone: 32400 });
    agrees(answer);
    assert.deepEqual(Object.keys(parseForecast(answer)), ["list", "city"]);
  });
  await t.step("refused: no offset, an offset beyond ±14 h, a pop above 1, no steps", () => {
    const answer = forecastAnswer({ name: "Tokyo", country: "JP", timezone: 32400 });
    const list = answer.list as Record<string, unknown>[];
    const city = answer.city as Record<string, unknown>;
    for (
      const value of [
        { ...answer, city: { ...city, timezone: undefined } },
        { ...answer, city: { ...city, timezone: 15 * 3600 } },
        { ...answer, city: { ...city, timezone: 3600.5 } },
        { ...answer, list: [{ ...list[0], pop: 1.2 }] },
        { ...answer, list: [{ ...list[0], pop: undefined }] },
        { ...answer, list: [] },
      ]
    ) {
      assert.throws(() => parseForecast(value), UnexpectedShapeError);
      agrees(value);
    }
  });
  await t.step("any forecast-shaped value", () => {
    const wrong = fc.constantFrom<unknown>(null, undefined, Number.NaN, "3", [], {}, 2, -1);
    const maybe = <T>(good: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 8, arbitrary: good }, { weight: 1, arbitrary: wrong });
    const shaped = fc.record({
      list: maybe(fc.array(
        maybe(fc.record({
          dt: maybe(fc.integer()),
          main: maybe(fc.record({ temp: maybe(fc.double()) })),
          weather: maybe(fc.array(
            maybe(fc.record({ id: maybe(fc.integer()), description: maybe(fc.string()) })),
            { maxLength: 2 },
          )),
          pop: maybe(fc.double({ min: -0.5, max: 1.5 })),
          rain: maybe(fc.record({ "3h": maybe(fc.double()) }, { requiredKeys: [] })),
          wind: maybe(fc.record({ speed: maybe(fc.double()) }, { requiredKeys: [] })),
        }, { requiredKeys: [] })),
        { maxLength: 3 },
      )),
      city: maybe(fc.record({
        name: maybe(fc.string()),
        timezone: maybe(fc.integer({ min: -60_000, max: 60_000 })),
      }, { requiredKeys: [] })),
    }, { requiredKeys: [] });
    fc.assert(fc.property(shaped, agrees), { numRuns: 3_000 });
  });
});
