/**
 * An observation as the contract's answer: what OpenWeatherMap gave, plus
 * what a flow branches on (`condition_group`, `severe`) and speaks
 * (`temperature_rounded`, `summary`), in the answer's language. Unit words
 * and number formats come from the runtime's ICU data, so no translation
 * table is kept by hand.
 */

import type { ConditionGroup, Language, SevereReason, Units, WeatherReport } from "./contract.ts";
import { LANGUAGE_TAGS } from "./language.ts";
import type { Observation } from "./observation.ts";

const METRES_PER_SECOND_IN_A_MILE_PER_HOUR = 0.44704;

export const TEMPERATURE_UNIT = {
  metric: "celsius",
  imperial: "fahrenheit",
  standard: "kelvin",
} as const;
const WIND_SPEED_UNIT = {
  metric: "meters per second",
  imperial: "miles per hour",
  standard: "meters per second",
} as const;

export interface ReportOptions {
  units: Units;
  lang: Language;
  stale: boolean;
  /** Wind at or above this, in m/s whatever the units, is severe (`high_wind`). */
  severeWindMetresPerSecond: number;
}

/** Copies what OpenWeatherMap gave; what it left out stays out (no nulls, no invented zeros). */
export function toWeatherReport(observation: Observation, options: ReportOptions): WeatherReport {
  const { units, stale } = options;
  const { main, wind, clouds, sys } = observation;
  const condition = observation.weather[0]!;
  const tag = LANGUAGE_TAGS[options.lang];
  const description = capitaliseFirstLetter(condition.description, tag);
  const severeReason = severeReasonOf(
    condition.id,
    windMetresPerSecond(wind?.speed, units),
    options,
  );
  const temperatureRounded = wholeDegrees(main.temp);
  const report: WeatherReport = {
    temperature: main.temp,
    temperature_unit: TEMPERATURE_UNIT[units],
    condition: description,
    wind_speed_unit: WIND_SPEED_UNIT[units],
    units,
    stale,
    severe: severeReason !== undefined,
    temperature_rounded: temperatureRounded,
    summary: summaryOf(observation.name, description, temperatureRounded, units, tag),
    lang: tag,
  };
  if (main.feels_like !== undefined) report.feels_like = main.feels_like;
  if (main.temp_min !== undefined) report.temperature_min = main.temp_min;
  if (main.temp_max !== undefined) report.temperature_max = main.temp_max;
  if (Number.isInteger(condition.id)) {
    report.condition_code = condition.id!;
    const group = conditionGroupOf(condition.id!);
    if (group !== undefined) report.condition_group = group;
  }
  if (severeReason !== undefined) report.severe_reason = severeReason;
  if (main.humidity !== undefined) report.humidity = main.humidity;
  if (main.pressure !== undefined) report.pressure = main.pressure;
  if (wind?.speed !== undefined) report.wind_speed = wind.speed;
  if (wind?.deg !== undefined) report.wind_direction = wind.deg;
  if (clouds?.all !== undefined) report.cloudiness = clouds.all;
  if (observation.visibility !== undefined) report.visibility = observation.visibility;
  if (observation.name) report.city = observation.name;
  if (sys?.country) report.country = sys.country;
  if (observation.dt !== undefined) {
    const observedAt = new Date(observation.dt * 1000);
    if (!Number.isNaN(observedAt.getTime())) report.observed_at = observedAt.toISOString();
  }
  return report;
}

/**
 * A temperature to the nearest degree, halves up. `+ 0` turns the -0 that
 * Math.round gives for -0.5 < t < 0 into 0, which Intl would otherwise
 * speak as "-0".
 */
export function wholeDegrees(temperature: number): number {
  return Math.round(temperature) + 0;
}

/**
 * OpenWeatherMap's groups by condition id: 2xx thunderstorm, 3xx drizzle,
 * 5xx rain, 6xx snow, 7xx fog and the like, except squalls (771) and
 * tornadoes (781), which are extreme; 800 clear, 801 to 804 clouds.
 */
export function conditionGroupOf(id: number): ConditionGroup | undefined {
  if (id === 771 || id === 781) return "extreme";
  if (id === 800) return "clear";
  if (id >= 801 && id <= 804) return "clouds";
  return GROUP_BY_HUNDREDS[Math.floor(id / 100)];
}

/** The groups whose ids share their first digit. */
const GROUP_BY_HUNDREDS: Readonly<Record<number, ConditionGroup>> = {
  2: "thunderstorm",
  3: "drizzle",
  5: "rain",
  6: "snow",
  7: "fog",
};

/** Condition ids that are severe on their own, with their reason. */
const SEVERE_CONDITIONS: ReadonlyMap<number, SevereReason> = new Map([
  [781, "tornado"],
  [771, "squall"],
  [511, "freezing_rain"], // freezing rain
  [502, "heavy_rain"], // heavy intensity rain
  [503, "heavy_rain"], // very heavy rain
  [504, "heavy_rain"], // extreme rain
  [522, "heavy_rain"], // heavy intensity shower rain
  [602, "heavy_snow"], // heavy snow
  [622, "heavy_snow"], // heavy shower snow
  [762, "volcanic_ash"], // volcanic ash
]);

/**
 * Why the weather is severe, or undefined: any thunderstorm (2xx), a
 * condition in SEVERE_CONDITIONS, or else wind at or above the threshold.
 */
export function severeReasonOf(
  conditionId: number | undefined,
  windMetresPerSecond: number | undefined,
  options: Pick<ReportOptions, "severeWindMetresPerSecond">,
): SevereReason | undefined {
  if (conditionId !== undefined) {
    if (conditionId >= 200 && conditionId < 300) return "thunderstorm";
    const reason = SEVERE_CONDITIONS.get(conditionId);
    if (reason !== undefined) return reason;
  }
  if (
    windMetresPerSecond !== undefined && windMetresPerSecond >= options.severeWindMetresPerSecond
  ) {
    return "high_wind";
  }
  return undefined;
}

/** OpenWeatherMap gives wind in mph for imperial units, in m/s otherwise. */
export function windMetresPerSecond(speed: number | undefined, units: Units): number | undefined {
  if (speed === undefined) return undefined;
  return units === "imperial" ? speed * METRES_PER_SECOND_IN_A_MILE_PER_HOUR : speed;
}

/**
 * "London: Light rain, 12 degrees Celsius." in the answer's language: the
 * description is OpenWeatherMap's, translated by it; the list's punctuation,
 * the number and the unit's words are ICU's. Kelvin is no unit ECMA-402
 * formats, so it is written "285 K".
 */
function summaryOf(
  place: string | undefined,
  description: string,
  temperature: number,
  units: Units,
  tag: string,
): string {
  const temperatureText = units === "standard"
    ? `${new Intl.NumberFormat(tag).format(temperature)} K`
    : new Intl.NumberFormat(tag, {
      style: "unit",
      unit: TEMPERATURE_UNIT[units],
      unitDisplay: "long",
    }).format(temperature);
  const weather = new Intl.ListFormat(tag, { type: "unit", style: "short" })
    .format([description, temperatureText]);
  return place ? `${place}: ${weather}.` : `${capitaliseFirstLetter(weather, tag)}.`;
}

/** "light rain" → "Light rain"; works per code point, so "ясно" → "Ясно". */
export function capitaliseFirstLetter(text: string, tag: string): string {
  const [first = "", ...rest] = text.trim();
  return first.toLocaleUpperCase(tag) + rest.join("");
}
