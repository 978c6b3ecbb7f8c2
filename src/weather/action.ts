/**
 * The weather Data Action: a validated request in, the contract's output out.
 * Upstream failures become `{ error_code, error_message }` answers here; they
 * are outcomes the flow branches on, not exceptions.
 */

import {
  type ActionFailure,
  type Units,
  UPSTREAM_ERROR_CODES,
  UPSTREAM_FAILURES,
  type WeatherActionOutput,
  type WeatherReport,
  type WeatherRequest,
} from "./contract.ts";
import type { Observation } from "./openweather.ts";
import type { CacheResult, LookupContext, WeatherLookup, WeatherSource } from "./cache.ts";

/** The request's logger and deadline (see LookupContext). */
export type WeatherActionContext = LookupContext;

export interface WeatherActionResult {
  output: WeatherActionOutput;
  /** `output` as JSON text: made once per cached observation, not once per answer. */
  json: string;
  /** Where the answer came from, for the access log. */
  cache: CacheResult;
}

export type WeatherAction = (
  request: WeatherRequest,
  context: WeatherActionContext,
) => Promise<WeatherActionResult>;

/** A report and its JSON, kept while its observation is cached. */
interface PreparedReport {
  readonly units: Units;
  readonly lang: string | undefined;
  readonly output: WeatherReport;
  readonly json: string;
}

export function createWeatherAction(weather: WeatherSource): WeatherAction {
  // A cached observation answers many requests with the same report: it is
  // built and serialised once, on the first of them. (Each cached observation
  // is its own object, held by one cache key, which includes units and lang;
  // a stale answer is rare and built each time.)
  const reports = new WeakMap<Observation, PreparedReport>();
  const prepare = (observation: Observation, units: Units, lang: string | undefined) => {
    const known = reports.get(observation);
    if (known !== undefined && known.units === units && known.lang === lang) return known;
    const output = toWeatherReport(observation, units, lang, false);
    const prepared = { units, lang, output, json: JSON.stringify(output) };
    reports.set(observation, prepared);
    return prepared;
  };

  const answer = (
    { result, cache }: WeatherLookup,
    request: WeatherRequest,
    units: Units,
    context: WeatherActionContext,
  ): WeatherActionResult => {
    if (!(result instanceof Error)) {
      if (cache === "stale") {
        const output = toWeatherReport(result, units, request.lang, true);
        return { output, json: JSON.stringify(output), cache };
      }
      const { output, json } = prepare(result, units, request.lang);
      return { output, json, cache };
    }
    if (result.code !== "CITY_NOT_FOUND") {
      context.logger.warn("Upstream call failed", {
        error_code: result.code,
        upstream_status: result.upstreamStatus,
        error: result,
      });
    }
    return { output: actionFailure(result.code), json: FAILURE_JSON[result.code], cache };
  };

  return async (request, context) => {
    const units = request.units ?? "metric";
    const found = await weather.lookup(
      { city: request.city_name, countryCode: request.country_code, units, lang: request.lang },
      context,
    );
    return answer(found, request, units, context);
  };
}

function actionFailure(code: ActionFailure["error_code"]): ActionFailure {
  return { error_code: code, error_message: UPSTREAM_FAILURES[code].message };
}

/** `actionFailure(code)` as JSON text, for each code: there are only a few. */
const FAILURE_JSON = Object.fromEntries(
  UPSTREAM_ERROR_CODES.map((code) => [code, JSON.stringify(actionFailure(code))]),
) as Record<ActionFailure["error_code"], string>;

const TEMPERATURE_UNIT = { metric: "celsius", imperial: "fahrenheit", standard: "kelvin" } as const;
const WIND_SPEED_UNIT = {
  metric: "meters per second",
  imperial: "miles per hour",
  standard: "meters per second",
} as const;

/** Copies what OpenWeatherMap gave; what it left out stays out (no nulls, no invented zeros). */
export function toWeatherReport(
  observation: Observation,
  units: WeatherReport["units"],
  lang: string | undefined,
  stale: boolean,
): WeatherReport {
  const { main, wind, clouds, sys } = observation;
  const condition = observation.weather[0]!;
  const report: WeatherReport = {
    temperature: main.temp,
    temperature_unit: TEMPERATURE_UNIT[units],
    condition: capitaliseFirstLetter(condition.description, lang),
    wind_speed_unit: WIND_SPEED_UNIT[units],
    units,
    stale,
  };
  if (main.feels_like !== undefined) report.feels_like = main.feels_like;
  if (main.temp_min !== undefined) report.temperature_min = main.temp_min;
  if (main.temp_max !== undefined) report.temperature_max = main.temp_max;
  if (Number.isInteger(condition.id)) report.condition_code = condition.id!;
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

/** "light rain" → "Light rain"; works per code point, so "ясно" → "Ясно". */
function capitaliseFirstLetter(text: string, lang?: string): string {
  const [first = "", ...rest] = text.trim();
  let locale: string | undefined;
  try {
    // OpenWeatherMap codes like "pt_br" and "zh_cn" are BCP 47 tags once "_" becomes "-";
    // a few ("cz", "kr", "ua", "sp") are not, and those fall back to the default locale.
    locale = lang ? Intl.getCanonicalLocales(lang.replace("_", "-"))[0] : undefined;
  } catch {
    locale = undefined;
  }
  return first.toLocaleUpperCase(locale) + rest.join("");
}
