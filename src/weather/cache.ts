/**
 * The weather source the action uses: OpenWeatherMap behind a cache.
 *
 * - Answers are cached by normalised request (city, country, units, lang):
 *   observations for `ttlMs`, "city not found" for `notFoundTtlMs`.
 * - Concurrent misses for one key share one upstream call (lru-cache's
 *   de-duplicated fetch), so a burst of N identical requests costs 1 call.
 * - When the upstream fails, times out, or the guard will not let a call
 *   through, an expired answer younger than `ttlMs + staleMaxMs` is served
 *   instead, marked stale.
 * - Every call passes the UpstreamGuard (quota and back-off) first.
 */

import { LRUCache } from "lru-cache";
import type { Logger } from "../process/log.ts";
import type { CacheResult, Metrics } from "../process/metrics.ts";
import {
  type CurrentWeatherQuery,
  type Observation,
  type OpenWeatherClient,
  UpstreamError,
} from "./openweather.ts";
import { ThrottledError, type UpstreamGuard } from "./upstream_guard.ts";

export interface WeatherCacheOptions {
  client: OpenWeatherClient;
  guard: UpstreamGuard;
  ttlMs: number;
  notFoundTtlMs: number;
  staleMaxMs: number;
  maxEntries: number;
  now: () => number;
  metrics: Metrics;
}

/** What the cache holds: an observation, or OpenWeatherMap's word that the city does not exist. */
type CachedAnswer =
  | { readonly observation: Observation; readonly storedAt: number }
  | { readonly notFound: true; readonly storedAt: number };

export interface WeatherLookup {
  /** The observation, or why there is none. */
  readonly result: Observation | UpstreamError;
  readonly cache: CacheResult;
}

export interface WeatherSource {
  lookup(query: CurrentWeatherQuery, logger: Logger): Promise<WeatherLookup>;
}

/** "  São  Paulo " and "são paulo" are one city; NFC so composed and decomposed accents match. */
export function cacheKey(query: CurrentWeatherQuery): string {
  const city = query.city.normalize("NFC").trim().replace(/\s+/g, " ").toLocaleLowerCase("en");
  return JSON.stringify([city, query.countryCode ?? "", query.units, query.lang ?? ""]);
}

export function createWeatherCache(options: WeatherCacheOptions): WeatherSource {
  const { now, metrics } = options;
  const freshFor = (answer: CachedAnswer) =>
    "notFound" in answer ? options.notFoundTtlMs : options.ttlMs;

  const cache = new LRUCache<string, CachedAnswer, CurrentWeatherQuery>({
    max: options.maxEntries,
    // An entry is dropped once it is too old even to be served stale. (For
    // lru-cache a ttl of 0 means "forever", hence at least 1 ms.)
    ttl: Math.max(1, options.ttlMs + options.staleMaxMs),
    perf: { now },
    // A failed refresh must not delete the stale answer we are about to serve.
    noDeleteOnFetchRejection: true,
    fetchMethod: async (_key, _stale, { context: query, options: setOptions }) => {
      options.guard.admit();
      try {
        const observation = await options.client.currentWeather(query);
        metrics.upstreamCall("ok");
        return { observation, storedAt: now() };
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        metrics.upstreamCall(error.code);
        if (error.code === "CITY_NOT_FOUND") {
          setOptions.ttl = Math.max(1, options.notFoundTtlMs + options.staleMaxMs);
          return { notFound: true, storedAt: now() };
        }
        options.guard.observe(error);
        throw error;
      }
    },
  });

  const toResult = (answer: CachedAnswer): Observation | UpstreamError =>
    "notFound" in answer
      ? new UpstreamError("CITY_NOT_FOUND", "OpenWeatherMap does not know the city (cached)", 404)
      : answer.observation;

  return {
    async lookup(query, logger) {
      const key = cacheKey(query);
      const cached = cache.get(key);
      if (cached && now() - cached.storedAt < freshFor(cached)) {
        metrics.weatherCache("hit");
        return { result: toResult(cached), cache: "hit" };
      }
      try {
        // forceRefresh: the entry is expired for us even while lru-cache keeps it for stale use.
        const fresh = await cache.fetch(key, { forceRefresh: true, context: query });
        metrics.weatherCache("miss");
        return { result: toResult(fresh!), cache: "miss" };
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        if (error instanceof ThrottledError) metrics.upstreamCall("throttled");
        // Checked here, not left to lru-cache, so the bound holds to the millisecond.
        const servable = cached && now() - cached.storedAt < freshFor(cached) + options.staleMaxMs;
        if (cached && servable) {
          metrics.weatherCache("stale");
          logger.warn("Serving a stale answer: OpenWeatherMap is failing", {
            error_code: error.code,
            age_s: Math.round((now() - cached.storedAt) / 1000),
          });
          return { result: toResult(cached), cache: "stale" };
        }
        metrics.weatherCache("miss");
        return { result: error, cache: "miss" };
      }
    },
  };
}
