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
 * - Refresh ahead of expiry: a caller answered from a fresh answer (from
 *   either layer) plans one refresh of it `refreshAheadMs` before it expires,
 *   in the background, so the callers after it do not wait for the upstream.
 *   An answer nobody asks for after it was stored is not refreshed: nothing
 *   polls the cache. With a shared store, the instance that claims the key
 *   refreshes it (the others find the new answer in the store), and
 *   refreshes come last in the budget (upstream_guard.ts).
 * - When the upstream fails, times out, or the guard will not let a call
 *   through, or the request's deadline comes first, an expired answer
 *   younger than `ttlMs + staleMaxMs` (from either layer) is served instead,
 *   marked stale. Once a call for a key has failed, or while the upstream is
 *   failing as a whole, later callers get that stale answer at once instead
 *   of waiting on the upstream again, and retries run in the background, no
 *   more than setbacks.ts lets them.
 * - A not-found answer never replaces a good answer that is still inside its
 *   stale window: that answer is served (stale) and the not-found is dropped.
 * - Every call passes the UpstreamGuard (budget and back-off) first, as a
 *   "known" place (it has answered before, in any units or language, for
 *   either action: known_places.ts), an "unknown" one, or a "refresh".
 */

import { createKeyedTimers } from "../process/keyed_timers.ts";
import type { Logger } from "../process/log.ts";
import { DeadlineReached, type Timers } from "../process/timeout.ts";
import { createTtlCache } from "../process/ttl_cache.ts";
import type { ActionName, UpstreamErrorCode } from "./contract.ts";
import type { KnownPlaces } from "./known_places.ts";
import type { WeatherMetrics } from "./metrics.ts";
import { type CurrentWeatherQuery, UpstreamError } from "./openweather.ts";
import { placeKey } from "./place.ts";
import { createSetbacks } from "./setbacks.ts";
import type { CachedAnswer, SharedAnswers } from "./shared_answers.ts";
import { type CallKind, ThrottledError, type UpstreamGuard } from "./upstream_guard.ts";

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
  /** How long before it expires an answer callers still ask for is refreshed; 0: never. */
  refreshAheadMs: number;
  /** How long an instance's claim to refresh a key keeps the others off it: its call's longest. */
  refreshClaimMs: number;
  /** Where planned refreshes wait: timers that never keep the process alive, or a test clock's. */
  timers: Timers;
  /** For what happens with no request around it: refreshes ahead of expiry. */
  logger: Logger;
}

/**
 * After a try that brought no answer, the least time before the key is tried
 * again in the background (its stale answer served meanwhile); a quarter of
 * the refresh lead when that is longer: 15 s for the weather by default.
 */
const MIN_RETRY_AFTER_MS = 1_000;

/** What a refresh ahead of expiry came to, for `weather_refreshes_total`. */
export type RefreshOutcome = "ok" | "shared" | "elsewhere" | "throttled" | UpstreamErrorCode;

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

export interface AnswerCache<T> extends AnswerSource<T> {
  /** Cancels the refreshes planned; those under way finish, unlogged. For shutdown. */
  close(): void;
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

export function createAnswerCache<T>(options: AnswerCacheOptions<T>): AnswerCache<T> {
  const { action, now, metrics, guard, shared, known: knownPlaces, refreshAheadMs } = options;
  const freshFor = (answer: CachedAnswer<T>) =>
    "notFound" in answer ? options.notFoundTtlMs : options.ttlMs;
  const keptFor = (answer: CachedAnswer<T>) => freshFor(answer) + options.staleMaxMs;
  const isFresh = (answer: CachedAnswer<T>) => now() - answer.storedAt < freshFor(answer);
  // Checked here, not left to lru-cache, so the bound holds to the millisecond.
  const isServable = (answer: CachedAnswer<T>) => now() - answer.storedAt < keptFor(answer);
  /** When an answer's refresh ahead of expiry is due. */
  const refreshDueAt = (answer: CachedAnswer<T>) =>
    answer.storedAt + options.ttlMs - refreshAheadMs;

  const cache = createTtlCache<string, CachedAnswer<T>>({
    max: options.maxEntries,
    // An entry is dropped once it is too old even to be served stale. (For
    // lru-cache a ttl of 0 means "forever", hence at least 1 ms.)
    ttl: Math.max(1, options.ttlMs + options.staleMaxMs),
    now,
  });
  const remember = (key: string, answer: CachedAnswer<T>) =>
    cache.set(key, answer, { ttl: Math.max(1, answer.storedAt + keptFor(answer) - now()) });
  const setbacks = createSetbacks({
    retryAfterMs: Math.max(MIN_RETRY_AFTER_MS, refreshAheadMs / 4),
    keptMs: options.ttlMs + options.staleMaxMs,
    maxEntries: options.maxEntries,
    now,
  });
  /** Upstream calls in flight, by key: callers of an expired answer wait for the one under way. */
  const refreshing = new Map<string, Promise<Refreshed<T>>>();
  /** Keys a refresh ahead of expiry is working on, from its store read to its end. */
  const refreshingAhead = new Set<string>();
  const planned = createKeyedTimers<string>({ timers: options.timers, max: options.maxEntries });
  let closed = false;

  /**
   * The shared store's answer for the key, kept in memory when it is newer
   * than this instance's: returned when fresh. And whether the place counts
   * as known, here or in the store.
   */
  async function consultShared(
    key: string,
    query: CurrentWeatherQuery,
  ): Promise<{ fresh?: CachedAnswer<T>; known: boolean }> {
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
        // Fresh: the answer. Stale: what to serve if the upstream fails.
        remember(key, remote);
        if ("value" in remote) knownPlaces.add(place);
        if (isFresh(remote)) {
          // Another instance's call succeeded since this one's failed.
          setbacks.answered(key);
          return { fresh: remote, known };
        }
      }
    }
    const previous = cache.get(key);
    return { known: known || (previous !== undefined && "value" in previous) };
  }

  /** One call to the upstream, past the guard; its answer is kept in both layers. */
  async function call(
    key: string,
    query: CurrentWeatherQuery,
    kind: CallKind,
  ): Promise<CachedAnswer<T>> {
    const { place } = query;
    try {
      await guard.admit(kind);
    } catch (error) {
      if (error instanceof ThrottledError) {
        metrics.upstreamCalls.inc(action, "throttled");
        setbacks.heldBack(key);
      }
      throw error;
    }
    try {
      const value = await options.fetch(query);
      metrics.upstreamCalls.inc(action, "ok");
      const answer = { value, storedAt: now() };
      remember(key, answer);
      setbacks.answered(key);
      knownPlaces.add(place);
      await shared?.write(key, place, answer, keptFor(answer));
      return answer;
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      metrics.upstreamCalls.inc(action, error.code);
      const good = cache.get(key);
      // A good answer still inside its stale window wins: callers get it (stale),
      // and one odd 404 cannot make a city vanish for WEATHER_NOT_FOUND_TTL_S.
      if (error.code === "CITY_NOT_FOUND" && !(good && "value" in good && isServable(good))) {
        const answer = { notFound: true as const, storedAt: now() };
        remember(key, answer);
        setbacks.answered(key);
        knownPlaces.forget(place);
        await shared?.write(key, place, answer, keptFor(answer));
        return answer;
      }
      setbacks.failed(key, error.code);
      await guard.observe(error);
      throw error;
    }
  }

  /** A waiting caller's refresh: the shared store's answer, or a call. */
  async function refreshForCaller(key: string, query: CurrentWeatherQuery): Promise<Refreshed<T>> {
    const { fresh, known } = await consultShared(key, query);
    if (fresh) return { answer: fresh, source: "shared" };
    return { answer: await call(key, query, known ? "known" : "unknown"), source: "miss" };
  }

  /** Starts an upstream call for the key that the callers who find the answer expired join. */
  function share(key: string, refresh: Promise<Refreshed<T>>): Promise<Refreshed<T>> {
    refreshing.set(key, refresh);
    // Also marks a rejection nobody waits for any more (deadline passed) as handled.
    refresh.catch(() => {}).finally(() => refreshing.delete(key));
    return refresh;
  }

  /**
   * A refresh nobody waits for: of a fresh answer before it expires, or of a
   * stale one after a failure. Another instance's newer answer in the shared
   * store is taken instead, and one that claims the key is left to it.
   */
  async function refreshInBackground(key: string, query: CurrentWeatherQuery): Promise<void> {
    if (closed || refreshing.has(key) || refreshingAhead.has(key)) return;
    const current = cache.get(key);
    // Already refreshed (by a caller's miss, say) since this was planned.
    if (current && now() < refreshDueAt(current)) return;
    if (!setbacks.mayTry(key)) return;
    refreshingAhead.add(key);
    try {
      metrics.refreshes.inc(action, await refreshOnce(key, query));
    } catch (error) {
      // Nobody waits for it, so nothing else would see it: a bug, logged, never a crash.
      options.logger.error("Refresh in the background failed unexpectedly", { action, error });
    } finally {
      refreshingAhead.delete(key);
    }
  }

  async function refreshOnce(key: string, query: CurrentWeatherQuery): Promise<RefreshOutcome> {
    if (shared) {
      if ((await consultShared(key, query)).fresh) return "shared";
      if ((await shared.claim(key, options.refreshClaimMs)) === false) return "elsewhere";
    }
    // A caller's miss started a call meanwhile: that one refreshes it.
    if (refreshing.has(key)) return "elsewhere";
    try {
      await share(key, call(key, query, "refresh").then((answer) => ({ answer, source: "miss" })));
      return "ok";
    } catch (error) {
      if (error instanceof ThrottledError) return "throttled";
      if (!(error instanceof UpstreamError)) throw error;
      if (!closed) {
        options.logger.warn(
          "Background refresh failed: callers get the cached answer meanwhile",
          { action, error_code: error.code },
        );
      }
      return error.code;
    }
  }

  /** Plans the answer's refresh ahead of expiry, once per key, after a caller was answered from it. */
  function planRefresh(key: string, query: CurrentWeatherQuery, answer: CachedAnswer<T>): void {
    if (refreshAheadMs <= 0 || !("value" in answer)) return;
    const expiresAt = answer.storedAt + options.ttlMs;
    const dueAt = Math.max(refreshDueAt(answer), setbacks.retryAt(key));
    // Too late to help before it expires: the callers after it find it expired.
    if (dueAt >= expiresAt) return;
    planned.plan(key, dueAt - now(), () => void refreshInBackground(key, query));
  }

  const toResult = (answer: CachedAnswer<T>): T | UpstreamError =>
    "notFound" in answer
      ? new UpstreamError("CITY_NOT_FOUND", "OpenWeatherMap does not know the place (cached)", 404)
      : answer.value;
  const found = (answer: CachedAnswer<T>, cache: CacheResult): Lookup<T> => ({
    result: toResult(answer),
    cache,
  });
  const serveStale = (
    answer: CachedAnswer<T>,
    code: UpstreamErrorCode,
    context: LookupContext,
  ): Lookup<T> => {
    metrics.cacheLookups.inc(action, "stale");
    context.logger.warn("Serving a stale answer: OpenWeatherMap is failing", {
      error_code: code,
      age_s: Math.round((now() - answer.storedAt) / 1000),
    });
    return found(answer, "stale");
  };

  return {
    async lookup(query, context) {
      const key = cacheKey(query, action);
      const cached = cache.get(key);
      if (cached && isFresh(cached)) {
        metrics.cacheLookups.inc(action, "hit");
        planRefresh(key, query, cached);
        return found(cached, "hit");
      }
      // Its last call failed, or the upstream is failing: the stale answer at once, rather
      // than another wait on the upstream, and a retry in the background when one is due.
      const staleReason = cached && isServable(cached) ? setbacks.staleReason(key) : undefined;
      if (cached && staleReason) {
        if (now() >= setbacks.retryAt(key)) void refreshInBackground(key, query);
        return serveStale(cached, staleReason, context);
      }
      // Not a fresh hit: share the refresh in flight for this key, or start one.
      const inFlight = refreshing.get(key) ?? share(key, refreshForCaller(key, query));
      const { deadline } = context;
      let failure: UpstreamError;
      try {
        const outcome = await (deadline ? Promise.race([inFlight, deadline]) : inFlight);
        metrics.cacheLookups.inc(action, outcome.source);
        if (outcome.source === "shared") planRefresh(key, query, outcome.answer);
        return found(outcome.answer, outcome.source);
      } catch (error) {
        if (error instanceof DeadlineReached) {
          failure = new UpstreamError(
            "UPSTREAM_TIMEOUT",
            "REQUEST_DEADLINE_MS reached before OpenWeatherMap answered",
          );
        } else if (error instanceof UpstreamError) {
          failure = error;
        } else {
          throw error;
        }
      }
      // The refresh may have brought a stale answer from the shared store.
      const stale = cache.get(key);
      if (stale && isServable(stale)) return serveStale(stale, failure.code, context);
      metrics.cacheLookups.inc(action, "miss");
      return { result: failure, cache: "miss" };
    },
    close() {
      closed = true;
      planned.close();
    },
  };
}
