/**
 * Keeps this service from getting its OpenWeatherMap key blocked: at most
 * `maxCallsPerMinute` calls in any 60 seconds (the free plan allows 60, and
 * blocks the key for hours past that), and after a 429 or 401 no calls at
 * all for `backoffMs`, instead of hammering a key that is blocked or wrong.
 *
 * Names never answered before ("unknown": a typo, a random string, a city
 * last answered not found) may use only `unknownSharePercent` of the budget,
 * so a flood of them cannot stop known cities being refreshed.
 *
 * Refreshes ahead of expiry (cache.ts: nobody waits for them) come last: one
 * is let through only while the calls in the window, of every kind, are
 * fewer than `refreshLimit()`, so the rest of the budget stays for callers'
 * own misses, and the unknown names' share stays theirs.
 *
 * With a shared store, the window and the back-off are the store's, counted
 * atomically across every instance. While the store is unavailable each
 * instance keeps to its local share, `maxCallsPerMinute / instances`, counted
 * in the same local window that also records the calls it made while the
 * store was up.
 */

import type { UpstreamErrorCode } from "./contract.ts";
import type { Logger } from "../process/log.ts";
import type { WeatherMetrics } from "./metrics.ts";
import type { SharedStore } from "../store/shared_store.ts";
import { UpstreamError } from "./openweather.ts";

const MINUTE_MS = 60_000;

export interface UpstreamGuardOptions {
  maxCallsPerMinute: number;
  /** 1–100: the share of the budget names never answered before may use. */
  unknownSharePercent: number;
  /** 0–100: the share of the budget refreshes ahead of expiry may use. */
  refreshSharePercent: number;
  backoffMs: number;
  now: () => number;
  logger: Logger;
  metrics: WeatherMetrics;
  shared?: { store: SharedStore; instances: number } | undefined;
}

/**
 * Whom a call is for: a caller waiting on a city that answered before, or on
 * a name never seen (or last not found), or nobody waiting (a refresh ahead
 * of expiry).
 */
export type CallKind = "known" | "unknown" | "refresh";

export interface UpstreamGuard {
  /** Rejects with a ThrottledError instead of letting a call through. */
  admit(kind: CallKind): Promise<void>;
  /** Starts the back-off (for every instance) when the upstream said the key is blocked or wrong. */
  observe(error: UpstreamError): Promise<void>;
  /**
   * Calls this instance may still make in the last 60 s, for the budget gauge (0 means the
   * next is throttled). With a shared store it counts only this instance's calls, so across
   * instances the real remainder can be lower.
   */
  remainingCalls(): number;
}

export class ThrottledError extends UpstreamError {
  override name = "ThrottledError";
}

/** The calls names never answered before may make out of `limit`: at least one. */
export function unknownLimit(limit: number, sharePercent: number): number {
  return Math.max(1, Math.floor((limit * sharePercent) / 100));
}

/**
 * The calls in the window below which a refresh may still start: its own
 * share of `limit`, but never into the share names never answered before may
 * need. 0 when that leaves nothing: refreshes then never run.
 */
export function refreshLimit(
  limit: number,
  shares: { refreshSharePercent: number; unknownSharePercent: number },
): number {
  const percent = Math.min(shares.refreshSharePercent, 100 - shares.unknownSharePercent);
  return Math.floor((limit * Math.max(0, percent)) / 100);
}

export function createUpstreamGuard(options: UpstreamGuardOptions): UpstreamGuard {
  const { now, logger, metrics, shared } = options;
  /** This instance's calls in the last minute, oldest first. */
  const recentCalls: { time: number; unknown: boolean }[] = [];
  let backoff: { until: number; code: UpstreamErrorCode } | undefined;

  const startBackoff = (code: UpstreamErrorCode, ms: number, origin: string) => {
    const alreadyBackingOff = backoff !== undefined && now() < backoff.until;
    backoff = { until: now() + ms, code };
    if (!alreadyBackingOff) {
      logger.warn("OpenWeatherMap refused the key; not calling it until the back-off ends", {
        error_code: code,
        until: new Date(backoff.until).toISOString(),
        seen_by: origin,
      });
    }
  };

  const refuse = (kind: CallKind, reason: string, error: ThrottledError): never => {
    metrics.budgetRefused.inc(kind, reason);
    throw error;
  };

  const forgetOldCalls = () => {
    const time = now();
    while (recentCalls.length > 0 && time - recentCalls[0]!.time >= MINUTE_MS) recentCalls.shift();
  };

  /** Refused because the calls in the window reached `limit`: for a refresh, its share's. */
  const refuseOverLimit = (kind: CallKind, limit: number, where: string): never =>
    kind === "refresh"
      ? refuse(
        kind,
        "refresh_share",
        new ThrottledError(
          "UPSTREAM_RATE_LIMITED",
          `OPENWEATHER_REFRESH_SHARE_PERCENT of the budget (${limit} calls${where}) is used: the rest is kept for callers`,
        ),
      )
      : refuse(
        kind,
        "limit",
        new ThrottledError(
          "UPSTREAM_RATE_LIMITED",
          `OPENWEATHER_MAX_CALLS_PER_MINUTE (${limit}${where}) reached`,
        ),
      );
  const refuseUnknown = (): never =>
    refuse(
      "unknown",
      "unknown_share",
      new ThrottledError(
        "UPSTREAM_RATE_LIMITED",
        "OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT of the budget is used up by new names",
      ),
    );
  /** The calls in the window below which a call of this kind may start, out of `budget`. */
  const limitFor = (kind: CallKind, budget: number) =>
    kind === "refresh" ? refreshLimit(budget, options) : budget;

  const admitLocally = (kind: CallKind, budget: number) => {
    forgetOldCalls();
    const limit = limitFor(kind, budget);
    if (recentCalls.length >= limit) refuseOverLimit(kind, limit, " for this instance");
    const unknownCalls = recentCalls.filter((call) => call.unknown).length;
    if (kind === "unknown" && unknownCalls >= unknownLimit(budget, options.unknownSharePercent)) {
      refuseUnknown();
    }
  };

  return {
    async admit(kind) {
      if (backoff && now() < backoff.until) {
        refuse(
          kind,
          "backoff",
          new ThrottledError(backoff.code, "Backing off after OpenWeatherMap refused the key"),
        );
      }
      const limit = limitFor(kind, options.maxCallsPerMinute);
      // No share of the budget at all: not worth a round trip to the store.
      if (limit === 0) refuseOverLimit(kind, limit, "");
      const answer = await shared?.store.admit({
        limit,
        unknownLimit: unknownLimit(options.maxCallsPerMinute, options.unknownSharePercent),
        unknown: kind === "unknown",
        windowMs: MINUTE_MS,
      });
      if (answer?.admitted === false) {
        if (answer.reason === "backoff") {
          const code = answer.code === "UPSTREAM_AUTH_FAILED"
            ? "UPSTREAM_AUTH_FAILED"
            : "UPSTREAM_RATE_LIMITED";
          // Remembered here too, so this instance stops asking the store until it ends.
          startBackoff(code, answer.remainingMs, "another instance");
          refuse(
            kind,
            "backoff",
            new ThrottledError(code, "Backing off after OpenWeatherMap refused the key"),
          );
        }
        if (answer.reason === "limit") refuseOverLimit(kind, limit, " across instances");
        refuseUnknown();
      }
      if (answer === undefined) {
        // No store (or none right now): this instance's limit, or its share of the shared one.
        const limit = shared
          ? Math.max(1, Math.floor(options.maxCallsPerMinute / shared.instances))
          : options.maxCallsPerMinute;
        admitLocally(kind, limit);
      }
      forgetOldCalls();
      recentCalls.push({ time: now(), unknown: kind === "unknown" });
      metrics.budgetSpent.inc(kind);
    },
    remainingCalls() {
      forgetOldCalls();
      return Math.max(0, options.maxCallsPerMinute - recentCalls.length);
    },
    async observe(error) {
      if (error.code !== "UPSTREAM_RATE_LIMITED" && error.code !== "UPSTREAM_AUTH_FAILED") return;
      startBackoff(error.code, options.backoffMs, "this instance");
      if (shared && options.backoffMs > 0) {
        await shared.store.startBackoff(error.code, options.backoffMs);
      }
    },
  };
}
