/**
 * The rules a flow branches on, against OpenWeatherMap's condition table
 * (every id it documents), and the sentence it speaks in several languages.
 */

import assert from "node:assert/strict";
import { conditionGroupOf, severeReasonOf, toWeatherReport } from "../../src/weather/report.ts";
import type { Observation } from "../../src/weather/observation.ts";

/** OpenWeatherMap's documented condition ids, by group ("Weather condition codes"). */
const DOCUMENTED_IDS = {
  thunderstorm: [200, 201, 202, 210, 211, 212, 221, 230, 231, 232],
  drizzle: [300, 301, 302, 310, 311, 312, 313, 314, 321],
  rain: [500, 501, 502, 503, 504, 511, 520, 521, 522, 531],
  snow: [600, 601, 602, 611, 612, 613, 615, 616, 620, 621, 622],
  fog: [701, 711, 721, 731, 741, 751, 761, 762],
  extreme: [771, 781],
  clear: [800],
  clouds: [801, 802, 803, 804],
} as const;

Deno.test("conditionGroupOf() puts every documented id in its group", () => {
  for (const [group, ids] of Object.entries(DOCUMENTED_IDS)) {
    for (const id of ids) assert.equal(conditionGroupOf(id), group, `id ${id}`);
  }
  for (const id of [0, 100, 199, 400, 805, 900, 962]) assert.equal(conditionGroupOf(id), undefined);
});

Deno.test("severeReasonOf() names the first reason that applies", () => {
  const gale = { severeWindMetresPerSecond: 17.2 };
  const severe = new Map<number, string>([
    ...DOCUMENTED_IDS.thunderstorm.map((id) => [id, "thunderstorm"] as const),
    [781, "tornado"],
    [771, "squall"],
    [511, "freezing_rain"],
    [502, "heavy_rain"],
    [503, "heavy_rain"],
    [504, "heavy_rain"],
    [522, "heavy_rain"],
    [602, "heavy_snow"],
    [622, "heavy_snow"],
    [762, "volcanic_ash"],
  ]);
  for (const id of Object.values(DOCUMENTED_IDS).flat()) {
    assert.equal(severeReasonOf(id, 3, gale), severe.get(id), `id ${id}`);
  }
  assert.equal(severeReasonOf(800, 17.2, gale), "high_wind", "at the threshold");
  assert.equal(severeReasonOf(800, 17.1, gale), undefined);
  assert.equal(severeReasonOf(781, 30, gale), "tornado", "a condition before the wind");
  assert.equal(severeReasonOf(undefined, undefined, gale), undefined);
});

Deno.test("toWeatherReport() speaks the temperature, rounded, in the answer's language", () => {
  const observation: Observation = {
    weather: [{ id: 600, description: "light snow" }],
    main: { temp: -2.5 },
    name: "Oslo",
  };
  const report = (lang: "en" | "de" | "fr", units: "metric" | "imperial" | "standard") =>
    toWeatherReport(observation, { lang, units, stale: false, severeWindMetresPerSecond: 17.2 });
  // Math.round: halves go up, so -2.5 is -2.
  assert.equal(report("en", "metric").temperature_rounded, -2);
  assert.equal(report("en", "metric").summary, "Oslo: Light snow, -2 degrees Celsius.");
  assert.equal(report("de", "metric").summary, "Oslo: Light snow, -2 Grad Celsius.");
  // French puts a no-break space between the number and its unit.
  assert.equal(report("fr", "imperial").summary, "Oslo: Light snow et -2\u00a0degrés Fahrenheit.");
  assert.equal(report("en", "standard").summary, "Oslo: Light snow, -2 K.");
  assert.equal(report("en", "metric").condition_group, "snow");
});

Deno.test("toWeatherReport() says 0, never minus zero, for a temperature just below zero", () => {
  const observation: Observation = {
    weather: [{ id: 600, description: "light snow" }],
    main: { temp: -0.4 },
    name: "Oslo",
  };
  for (const lang of ["en", "de", "fr", "es"] as const) {
    const answer = toWeatherReport(observation, {
      lang,
      units: "metric",
      stale: false,
      severeWindMetresPerSecond: 17.2,
    });
    assert.ok(Object.is(answer.temperature_rounded, 0), `${lang}: ${answer.temperature_rounded}`);
    assert.doesNotMatch(answer.summary, /[-\u2212]0/, lang);
  }
});
