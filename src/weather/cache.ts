/**
 * An action's source of OpenWeatherMap answers (observations, forecasts): the
 * upstream behind a cache. Each action has its own cache; all share one guard.
 *
 * - Answers are cached by normalised request (place, units, lang):
 *   answers for `ttlMs`, "place not found" for `notFoundTtlMs`.
 * - Two layers: this instance's memory (an LRU), then, when configured, the
 *   shared store (shared_answers.ts), so an answer fetched by any instance
 *   is served by all. A miss in memory costs one store round trip.
 * - Concurrent misses for one key share one refresh (a map of refreshes in
 *   flight), so a burst of N identical requests costs 1 upstream call.
 * - When the upstream fails, times out, or the guard will not let a call
 *   through, or the request's deadline comes first, an expired answer
 *   younger than `ttlMs + staleMaxMs` (from either layer) is served instead,
 *   marked stale.
 * - A not-found answer never replaces a good answer that is still inside its
 *   stale window: that answer is served (stale) and the not-found is dropped.
 * - Every call passes the UpstreamGuard (budget and back-off) first, as a
 *   "known" place (it has answered before, in any units or language, for
 *   either action: known_places.ts) or an "unknown" one.
 */

import { createTtlCache } from "../process/ttl_cache.ts";
import type { Logger } from "../process/log.ts";
import type { WeatherMetrics } from "./metrics.ts";
import type { ActionName } from "./contract.ts";
import { type CurrentWeatherQuery, UpstreamError } from "./openweather.ts";
import type { CachedAnswer, SharedAnswers } from "./shared_answers.ts";
import type { KnownPlaces } from "./known_places.ts";
import { ThrottledError, type UpstreamGuard } from "./upstream_guard.ts";
import { DeadlineReached } from "../process/timeout.ts";
import { placeKey } from "./place.ts";

export interface AnswerCacheOptions<T> {
  /** Whose answers these are, for the metrics' `action` label and the cache keys. */
  action: ActionName;
  /** Asks OpenWeatherMap; rejects with an UpstreamError, never anything else. */
  fetch: (query: CurrentWeatherQuery) => Promise<T>;
  guard: UpstreamGuard;
  ttlMs: number;
  notFoundTtlMs: number;
  staleMaxMs: number;
  maxEntries: number;
  now: () => number;
  metrics: WeatherMetrics;
  /** The shared store's layer; absent: memory only. */
  shared?: SharedAnswers<T> | undefined;
  /** The places known to this instance, one set for all its caches. */
  known: KnownPlaces;
}

/** Where an answer came from. `shared`: not in this instance's memory, from the shared store. */
export type CacheResult = "hit" | "shared" | "miss" | "stale";

export interface Lookup<T> {
  /** The answer, or why there is none. */
  readonly result: T | UpstreamError;
  readonly cache: CacheResult;
}

/** What a lookup needs of its request. */
export interface LookupContext {
  /** The request's logger, carrying its correlation id. */
  readonly logger: Logger;
  /**
   * The request's deadline, a promise that rejects with DeadlineReached when
   * it is reached: the wait ends (not the upstream call, which goes on to
   * fill the cache), and the answer is a stale one or UPSTREAM_TIMEOUT.
   */
  readonly deadline?: Promise<never>;
}

export interface AnswerSource<T> {
  lookup(query: CurrentWeatherQuery, context: LookupContext): Promise<Lookup<T>>;
}

/**
 * One entry per place (each kind its own key space), units and language. The
 * weather action's keys carry no action name, so the shared store's entries
 * written before the forecast action existed still count.
 */
export function cacheKey(query: CurrentWeatherQuery, action: ActionName = "weather"): string {
  const parts = [...placeKey(query.place), query.units, query.lang];
  return JSON.stringify(action === "weather" ? parts : [action, ...parts]);
}

interface Refreshed<T> {
  readonly answer: CachedAnswer<T>;
  readonly source: "shared" | "miss";
}

export function createAnswerCache<T>(options: AnswerCacheOptions<T>): AnswerSource<T> {
  const { action, now, metrics, guard, shared, known: knownPlaces } = options;
  const freshFor = (answer: CachedAnswer<T>) =>
    "notFound" in answer ? options.notFoundTtlMs : options.ttlMs;
  const keptFor = (answer: CachedAnswer<T>) => freshFor(answer) + options.staleMaxMs;
  const isFresh = (answer: CachedAnswer<T>) => now() - answer.storedAt < freshFor(answer);
  // Checked here, not left to lru-cache, so the bound holds to the millisecond.
  const isServable = (answer: CachedAnswer<T>) => now() - answer.storedAt < keptFor(answer);

  const cache = createTtlCache<string, CachedAnswer<T>>({
    max: options.maxEntries,
    // An entry is dropped once it is too old even to be served stale. (For
    // lru-cache a ttl of 0 means "forever", hence at least 1 ms.)
    ttl: Math.max(1, options.ttlMs + options.staleMaxMs),
    now,
  });
  const remember = (key: string, answer: CachedAnswer<T>) =>
    cache.set(key, answer, { ttl: Math.max(1, answer.storedAt + keptFor(answer) - now()) });
  const refreshing = new Map<string, Promise<Refreshed<T>>>();

  async function refresh(key: string, query: CurrentWeatherQuery): Promise<Refreshed<T>> {
    const { place } = query;
    let known = knownPlaces.has(place);
    if (shared) {
      const stored = await shared.read(key, place);
      const local = cache.get(key);
      const remote = stored?.answer;
      if (stored?.known) known = true;
      // Another instance's not-found does not replace a good answer in its stale window either.
      const keepLocal = local !== undefined && "value" in local && isServable(local) &&
        remote !== undefined && "notFound" in remote;
      if (
        remote && !keepLocal && isServable(remote) && (!local || remote.storedAt > local.storedAt)
      ) {
        // Fresh: the answer. Stale: what to serve if the upstream fails below.
        remember(key, remote);
        if ("value" in remote) knownPlaces.add(place);
        if (isFresh(remote)) return { answer: remote, source: "shared" };
      }
    }
    const previous = cache.get(key);
    if (previous && "value" in previous) known = true;
    await guard.admit(known ? "known" : "unknown");
    try {
      const value = await options.fetch(query);
      metrics.upstreamCalls.inc(action, "ok");
      const answer = { value, storedAt: now() };
      remember(key, answer);
      knownPlaces.add(place);
      await shared?.write(key, place, answer, keptFor(answer));
      return { answer, source: "miss" };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      metrics.upstreamCalls.inc(action, error.code);
      if (error.code === "CITY_NOT_FOUND") {
        const good = cache.get(key);
        // A good answer still inside its stale window wins: the caller gets it (stale),
        // and one odd 404 cannot make a city vanish for WEATHER_NOT_FOUND_TTL_S.
        if (good && "value" in good && isServable(good)) throw error;
        const answer = { notFound: true as const, storedAt: now() };
        remember(key, answer);
        knownPlaces.forget(place);
        await shared?.write(key, place, answer, keptFor(answer));
        return { answer, source: "miss" };
      }
      await guard.observe(error);
      throw error;
    }
  }

  const toResult = (answer: CachedAnswer<T>): T | UpstreamError =>
    "notFound" in answer
      ? new UpstreamError("CITY_NOT_FOUND", "OpenWeatherMap does not know the place (cached)", 404)
      : answer.value;
  const found = (answer: CachedAnswer<T>, cache: CacheResult): Lookup<T> => ({
    result: toResult(answer),
    cache,
  });

  return {
    async lookup(query, context) {
      const key = cacheKey(query, action);
      const cached = cache.get(key);
      if (cached && isFresh(cached)) {
        metrics.cacheLookups.inc(action, "hit");
        return found(cached, "hit");
      }
      // Not a fresh hit: share the refresh in flight for this key, or start one.
      let inFlight = refreshing.get(key);
      if (inFlight === undefined) {
        inFlight = refresh(key, query);
        refreshing.set(key, inFlight);
        // Also marks a rejection nobody waits for any more (deadline passed) as handled.
        inFlight.catch(() => {}).finally(() => refreshing.delete(key));
      }
      const { deadline } = context;
      let failure: UpstreamError;
      try {
        const outcome = await (deadline ? Promise.race([inFlight, deadline]) : inFlight);
        metrics.cacheLookups.inc(action, outcome.source);
        return found(outcome.answer, outcome.source);
      } catch (error) {
        if (error instanceof DeadlineReached) {
          failure = new UpstreamError(
            "UPSTREAM_TIMEOUT",
            "REQUEST_DEADLINE_MS reached before OpenWeatherMap answered",
          );
        } else if (error instanceof UpstreamError) {
          if (error instanceof ThrottledError) metrics.upstreamCalls.inc(action, "throttled");
          failure = error;
        } else {
          throw error;
        }
      }
      // The refresh may have brought a stale answer from the shared store.
      const stale = cache.get(key);
      if (stale && isServable(stale)) {
        metrics.cacheLookups.inc(action, "stale");
        context.logger.warn("Serving a stale answer: OpenWeatherMap is failing", {
          error_code: failure.code,
          age_s: Math.round((now() - stale.storedAt) / 1000),
        });
        return found(stale, "stale");
      }
      metrics.cacheLookups.inc(action, "miss");
      return { result: failure, cache: "miss" };
    },
  };
}
