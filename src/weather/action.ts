/**
 * The Data Actions: a validated request in, the contract's output out.
 * Upstream failures become `{ error_code, error_message }` answers here; they
 * are outcomes the flow branches on, not exceptions.
 */

import {
  type ActionFailure,
  UPSTREAM_ERROR_CODES,
  UPSTREAM_FAILURES,
  type UpstreamErrorCode,
  type WeatherReport,
  type WeatherRequest,
} from "./contract.ts";
import { type Observation, UpstreamError } from "./openweather.ts";
import type { AnswerSource, CacheResult, LookupContext } from "./cache.ts";
import { type ReportOptions, toWeatherReport } from "./report.ts";

/** The request's logger and deadline (see LookupContext). */
export type ActionContext = LookupContext;

export interface ActionResult<Report> {
  output: Report | ActionFailure;
  /** `output` as JSON text. */
  json: string;
  /** Where the answer came from, for the access log. */
  cache: CacheResult;
}

/** What the route calls: every action takes the same request. */
export type Action<Report> = (
  request: WeatherRequest,
  context: ActionContext,
) => Promise<ActionResult<Report>>;

export type WeatherAction = Action<WeatherReport>;

/** A report and its JSON, kept while its observation is cached. */
interface PreparedReport {
  readonly request: WeatherRequest;
  readonly output: WeatherReport;
  readonly json: string;
}

export interface WeatherActionOptions {
  /** SEVERE_WIND_METRES_PER_SECOND. */
  severeWindMetresPerSecond: number;
}

export function createWeatherAction(
  weather: AnswerSource<Observation>,
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

  return async (request, context) => {
    const { result, cache } = await weather.lookup(request, context);
    if (result instanceof UpstreamError) return failedLookup(result, cache, context);
    const { output, json } = cache === "stale"
      ? report(result, request, true)
      : prepare(result, request);
    return { output, json, cache };
  };
}

/** True for the answers that carry an error_code instead of a report. */
export function isFailure(output: object): output is ActionFailure {
  return "error_code" in output;
}

/** The answer to a lookup that found no answer: its error_code, logged unless it is the caller's. */
export function failedLookup(
  error: UpstreamError,
  cache: CacheResult,
  context: ActionContext,
): ActionResult<never> {
  if (error.code !== "CITY_NOT_FOUND") {
    context.logger.warn("Upstream call failed", {
      error_code: error.code,
      upstream_status: error.upstreamStatus,
      error,
    });
  }
  return { output: upstreamFailure(error.code), json: FAILURE_JSON[error.code], cache };
}

function upstreamFailure(code: UpstreamErrorCode): ActionFailure {
  return { error_code: code, error_message: UPSTREAM_FAILURES[code].message };
}

/** `upstreamFailure(code)` as JSON text, for each code: there are only a few. */
const FAILURE_JSON = Object.fromEntries(
  UPSTREAM_ERROR_CODES.map((code) => [code, JSON.stringify(upstreamFailure(code))]),
) as Record<UpstreamErrorCode, string>;
