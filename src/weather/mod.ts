/**
 * The weather domain: the Data Actions' contract, OpenWeatherMap behind the
 * quota guard and a cache per action, and the actions that turn a request
 * into the contract's answers. `createWeather` wires them from the domain's
 * settings: one client, one guard (one budget) and one set of known places
 * for both actions.
 */

import type { Logger } from "../process/log.ts";
import type { MetricsRegistry } from "../process/metrics.ts";
import { BACKGROUND_TIMERS, type Timers } from "../process/timeout.ts";
import type { SharedStore } from "../store/shared_store.ts";
import { createWeatherAction, type WeatherAction } from "./action.ts";
import { type AnswerCacheOptions, createAnswerCache } from "./cache.ts";
import type { WeatherConfig } from "./config.ts";
import { createForecastAction, type ForecastAction } from "./forecast_action.ts";
import { createKnownPlaces } from "./known_places.ts";
import { createOpenWeatherClient } from "./openweather.ts";
import {
  createSharedAnswers,
  FORECAST_FORM,
  OBSERVATION_FORM,
  type StoredForm,
} from "./shared_answers.ts";
import { WEATHER_METRICS } from "./metrics.ts";
import { createUpstreamGuard } from "./upstream_guard.ts";

export { type Action, type ActionResult, isFailure, type WeatherAction } from "./action.ts";
export type { ForecastAction } from "./forecast_action.ts";

export interface Weather {
  action: WeatherAction;
  forecastAction: ForecastAction;
  /** Cancels the refreshes planned and closes the upstream connection pool. */
  close(): Promise<void>;
}

export function createWeather(
  config: WeatherConfig,
  deps: {
    now: () => number;
    logger: Logger;
    metrics: MetricsRegistry;
    /** Shared with every other instance; absent: this process on its own. */
    shared?: { store: SharedStore; instances: number } | undefined;
    /** Deno may trace outbound calls: the key in the upstream URL must not be. */
    outboundTraced: boolean;
    /** Where refreshes ahead of expiry wait; by default timers that never keep the process alive. */
    timers?: Timers | undefined;
  },
): Weather {
  const { openWeather, weatherCache } = config;
  const metrics = deps.metrics.recorders(WEATHER_METRICS);
  const client = createOpenWeatherClient({ ...openWeather, outboundTraced: deps.outboundTraced });
  const guard = createUpstreamGuard({
    maxCallsPerMinute: openWeather.maxCallsPerMinute,
    unknownSharePercent: openWeather.unknownCitySharePercent,
    refreshSharePercent: openWeather.refreshSharePercent,
    backoffMs: openWeather.backoffS * 1000,
    now: deps.now,
    logger: deps.logger,
    metrics,
    shared: deps.shared,
  });
  metrics.budgetRemaining.setSource(guard.remainingCalls);
  // One set for both actions: a place that answered one is known to the other.
  const known = createKnownPlaces({ maxEntries: weatherCache.maxEntries, now: deps.now });
  const cacheOf = <T>(
    specific: Pick<AnswerCacheOptions<T>, "action" | "fetch" | "ttlMs">,
    form: StoredForm<T>,
  ) =>
    createAnswerCache({
      ...specific,
      guard,
      known,
      shared: deps.shared ? createSharedAnswers(deps.shared.store, form, deps.now) : undefined,
      notFoundTtlMs: weatherCache.notFoundTtlS * 1000,
      staleMaxMs: weatherCache.staleMaxS * 1000,
      maxEntries: weatherCache.maxEntries,
      refreshAheadMs: specific.ttlMs * weatherCache.refreshAheadPercent / 100,
      // A claim to refresh lasts as long as the call can: the upstream's timeout, and a
      // second for the store round trips around it.
      refreshClaimMs: openWeather.timeoutMs + 1_000,
      timers: deps.timers ?? BACKGROUND_TIMERS,
      now: deps.now,
      logger: deps.logger,
      metrics,
    });
  const observations = cacheOf({
    action: "weather",
    fetch: client.currentWeather,
    ttlMs: weatherCache.ttlS * 1000,
  }, OBSERVATION_FORM);
  const forecasts = cacheOf({
    action: "forecast",
    fetch: client.forecast,
    ttlMs: weatherCache.forecastTtlS * 1000,
  }, FORECAST_FORM);
  const { severeWindMetresPerSecond } = config;
  return {
    action: createWeatherAction(observations, { severeWindMetresPerSecond }),
    forecastAction: createForecastAction(forecasts, {
      severeWindMetresPerSecond,
      rainProbabilityPercent: config.rainProbabilityPercent,
      now: deps.now,
    }),
    close() {
      observations.close();
      forecasts.close();
      return client.close();
    },
  };
}
