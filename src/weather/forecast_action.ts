/**
 * The forecast Data Action: the same request as the weather action, answered
 * with the forecast's flat report (forecast_report.ts). The report depends on
 * the time of the answer (which steps remain, which day is today), so it is
 * built for each answer rather than kept with the cached forecast.
 */

import type { ForecastReport } from "./contract.ts";
import type { Forecast } from "./forecast.ts";
import { UpstreamError } from "./openweather.ts";
import type { AnswerSource } from "./cache.ts";
import { type Action, failedLookup } from "./action.ts";
import { toForecastReport } from "./forecast_report.ts";

export type ForecastAction = Action<ForecastReport>;

export interface ForecastActionOptions {
  /** SEVERE_WIND_METRES_PER_SECOND. */
  severeWindMetresPerSecond: number;
  /** FORECAST_RAIN_PROBABILITY_PERCENT. */
  rainProbabilityPercent: number;
  now: () => number;
}

export function createForecastAction(
  forecasts: AnswerSource<Forecast>,
  options: ForecastActionOptions,
): ForecastAction {
  const { now, ...thresholds } = options;
  return async (request, context) => {
    const { result, cache } = await forecasts.lookup(request, context);
    if (result instanceof UpstreamError) return failedLookup(result, cache, context);
    const output = toForecastReport(result, {
      ...request,
      ...thresholds,
      stale: cache === "stale",
      now: now(),
    });
    if (output === undefined) {
      // Only a forecast kept stale for days has no step left; it is not an answer.
      return failedLookup(
        new UpstreamError("UPSTREAM_UNAVAILABLE", "Every step of the cached forecast is past"),
        cache,
        context,
      );
    }
    return { output, json: JSON.stringify(output), cache };
  };
}
