/**
 * The weather domain: the Data Action's contract, OpenWeatherMap behind the
 * quota guard and the cache, and the action that turns a request into the
 * contract's answer. `createWeather` wires them from the domain's settings.
 */

import type { Logger } from "../process/log.ts";
import type { MetricsRegistry } from "../process/metrics.ts";
import type { SharedStore } from "../store/shared_store.ts";
import { createWeatherAction, type WeatherAction } from "./action.ts";
import { createWeatherCache } from "./cache.ts";
import type { WeatherConfig } from "./config.ts";
import { createOpenWeatherClient } from "./openweather.ts";
import { createSharedAnswers } from "./shared_answers.ts";
import { WEATHER_METRICS } from "./metrics.ts";
import { createUpstreamGuard } from "./upstream_guard.ts";

export type { WeatherAction } from "./action.ts";

export interface Weather {
  action: WeatherAction;
  /** Closes the upstream connection pool. */
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
  },
): Weather {
  const { openWeather, weatherCache } = config;
  const metrics = deps.metrics.recorders(WEATHER_METRICS);
  const client = createOpenWeatherClient({ ...openWeather, outboundTraced: deps.outboundTraced });
  const guard = createUpstreamGuard({
    maxCallsPerMinute: openWeather.maxCallsPerMinute,
    unknownSharePercent: openWeather.unknownCitySharePercent,
    backoffMs: openWeather.backoffS * 1000,
    now: deps.now,
    logger: deps.logger,
    metrics,
    shared: deps.shared,
  });
  metrics.budgetRemaining.setSource(guard.remainingCalls);
  const cache = createWeatherCache({
    client,
    guard,
    shared: deps.shared ? createSharedAnswers(deps.shared.store) : undefined,
    ttlMs: weatherCache.ttlS * 1000,
    notFoundTtlMs: weatherCache.notFoundTtlS * 1000,
    staleMaxMs: weatherCache.staleMaxS * 1000,
    maxEntries: weatherCache.maxEntries,
    now: deps.now,
    metrics,
  });
  const action = createWeatherAction(cache, {
    severeWindMetresPerSecond: config.severeWindMetresPerSecond,
  });
  return { action, close: () => client.close() };
}
