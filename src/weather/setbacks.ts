/**
 * What an answer cache (cache.ts) remembers of the tries that brought no
 * answer, so callers do not wait on a failing OpenWeatherMap again and again,
 * and retries stay few:
 *
 * - per key, the last such try: when (no retry in the background before
 *   `retryAfterMs` from then), and, if the upstream failed, how;
 * - whether OpenWeatherMap is failing as a whole: its last FAILING_AFTER
 *   calls failed (one failure in a hundred is not an outage; two in a row
 *   nearly always are). While it is, the background sends one probe per
 *   `retryAfterMs` instead of one retry per key, so an outage of many places
 *   does not fill the budget's window with failed calls, and callers of
 *   expired answers get them stale at once.
 *
 * Any answer from the upstream ends both.
 */

import { createTtlCache } from "../process/ttl_cache.ts";
import type { UpstreamErrorCode } from "./contract.ts";

/** Consecutive failed calls after which OpenWeatherMap counts as failing. */
export const FAILING_AFTER = 2;

interface Setback {
  readonly at: number;
  /** Why the upstream gave no answer; absent when the try was held back before calling. */
  readonly failure?: UpstreamErrorCode | undefined;
}

export interface Setbacks {
  /** The upstream answered for the key (or another instance's answer was taken). */
  answered(key: string): void;
  /** The upstream failed for the key; CITY_NOT_FOUND for a place that answered before. */
  failed(key: string, code: UpstreamErrorCode): void;
  /** A try for the key did not reach the upstream (the budget held it back). */
  heldBack(key: string): void;
  /**
   * Why an expired answer for the key is served stale at once rather than
   * waited for: its own last call's failure, or the upstream's while it is
   * failing. Undefined when a caller should try (an odd 404 included).
   */
  staleReason(key: string): UpstreamErrorCode | undefined;
  /** The earliest time to try the key again in the background: 0 after no setback. */
  retryAt(key: string): number;
  /**
   * Whether a try in the background may go now. While the upstream is
   * failing, one probe per `retryAfterMs` goes; any other try is held back,
   * and counts as a setback for its key.
   */
  mayTry(key: string): boolean;
}

export function createSetbacks(options: {
  retryAfterMs: number;
  /** How long a setback is kept: as long as an answer can be served. */
  keptMs: number;
  maxEntries: number;
  now: () => number;
}): Setbacks {
  const { now, retryAfterMs } = options;
  const byKey = createTtlCache<string, Setback>({
    max: options.maxEntries,
    ttl: Math.max(1, options.keptMs),
    now,
  });
  let consecutiveFailures = 0;
  let lastFailure: UpstreamErrorCode = "UPSTREAM_UNAVAILABLE";
  let probedAt = -Infinity;
  const failing = () => consecutiveFailures >= FAILING_AFTER;

  return {
    answered(key) {
      byKey.delete(key);
      consecutiveFailures = 0;
    },
    failed(key, code) {
      byKey.set(key, { at: now(), failure: code });
      // A 404 is the upstream answering: no outage.
      if (code === "CITY_NOT_FOUND") {
        consecutiveFailures = 0;
        return;
      }
      consecutiveFailures++;
      lastFailure = code;
    },
    heldBack(key) {
      byKey.set(key, { at: now(), failure: byKey.get(key)?.failure });
    },
    staleReason(key) {
      const own = byKey.get(key)?.failure;
      if (own !== undefined && own !== "CITY_NOT_FOUND") return own;
      return failing() ? lastFailure : undefined;
    },
    retryAt(key) {
      const setback = byKey.get(key);
      return setback === undefined ? 0 : setback.at + retryAfterMs;
    },
    mayTry(key) {
      if (!failing()) return true;
      if (now() - probedAt >= retryAfterMs) {
        probedAt = now();
        return true;
      }
      byKey.set(key, { at: now(), failure: byKey.get(key)?.failure ?? lastFailure });
      return false;
    },
  };
}
