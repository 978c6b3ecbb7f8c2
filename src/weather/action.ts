/**
 * The weather Data Action: a validated request in, the contract's output out.
 * Upstream failures become `{ error_code, error_message }` answers here; they
 * are outcomes the flow branches on, not exceptions.
 */

import {
  type ActionFailure,
  UPSTREAM_ERROR_CODES,
  UPSTREAM_FAILURES,
  type UpstreamErrorCode,
  type WeatherActionOutput,
  type WeatherRequest,
} from "./contract.ts";
import type { Observation } from "./openweather.ts";
import type { CacheResult, LookupContext, WeatherLookup, WeatherSource } from "./cache.ts";
import { type ReportOptions, toWeatherReport } from "./report.ts";

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
  readonly request: WeatherRequest;
  readonly output: WeatherActionOutput;
  readonly json: string;
}

export interface WeatherActionOptions {
  /** SEVERE_WIND_METRES_PER_SECOND. */
  severeWindMetresPerSecond: number;
}

export function createWeatherAction(
  weather: WeatherSource,
  options: WeatherActionOptions,
): WeatherAction {
  const report = (observation: Observation, request: WeatherRequest, stale: boolean) => {
    const reportOptions: ReportOptions = { ...request, ...options, stale };
    const output = toWeatherReport(observation, reportOptions);
    return { output, json: JSON.stringify(output) };
  };
  // A cached observation answers many requests with the same report: it is
  // built and serialised once, on the first of them. (Each cached observation
  // is its own object, held by one cache key, which includes units and lang;
  // a stale answer is rare and built each time.)
  const reports = new WeakMap<Observation, PreparedReport>();
  const prepare = (observation: Observation, request: WeatherRequest) => {
    const known = reports.get(observation);
    if (
      known !== undefined && known.request.units === request.units &&
      known.request.lang === request.lang
    ) return known;
    const prepared = { request, ...report(observation, request, false) };
    reports.set(observation, prepared);
    return prepared;
  };

  const answer = (
    { result, cache }: WeatherLookup,
    request: WeatherRequest,
    context: WeatherActionContext,
  ): WeatherActionResult => {
    if (!(result instanceof Error)) {
      const { output, json } = cache === "stale"
        ? report(result, request, true)
        : prepare(result, request);
      return { output, json, cache };
    }
    if (result.code !== "CITY_NOT_FOUND") {
      context.logger.warn("Upstream call failed", {
        error_code: result.code,
        upstream_status: result.upstreamStatus,
        error: result,
      });
    }
    return { output: upstreamFailure(result.code), json: FAILURE_JSON[result.code], cache };
  };

  return async (request, context) =>
    answer(await weather.lookup(request, context), request, context);
}

function upstreamFailure(code: UpstreamErrorCode): ActionFailure {
  return { error_code: code, error_message: UPSTREAM_FAILURES[code].message };
}

/** `upstreamFailure(code)` as JSON text, for each code: there are only a few. */
const FAILURE_JSON = Object.fromEntries(
  UPSTREAM_ERROR_CODES.map((code) => [code, JSON.stringify(upstreamFailure(code))]),
) as Record<UpstreamErrorCode, string>;
