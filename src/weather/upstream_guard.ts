/**
 * Keeps this service from getting its OpenWeatherMap key blocked: at most
 * `maxCallsPerMinute` calls in any 60 seconds (the free plan allows 60, and
 * blocks the key for hours past that), and after a 429 or 401 no calls at
 * all for `backoffMs`, instead of hammering a key that is blocked or wrong.
 */

import type { UpstreamErrorCode } from "./contract.ts";
import type { Logger } from "../process/log.ts";
import { UpstreamError } from "./openweather.ts";

const MINUTE_MS = 60_000;

export interface UpstreamGuardOptions {
  maxCallsPerMinute: number;
  backoffMs: number;
  now: () => number;
  logger: Logger;
}

export interface UpstreamGuard {
  /** Throws an UpstreamError (marked `throttled`) instead of letting a call through. */
  admit(): void;
  /** Starts the back-off when the upstream said the key is blocked or wrong. */
  observe(error: UpstreamError): void;
  /** Calls still allowed in the last 60 s (for the budget metric; 0 means the next is throttled). */
  remainingCalls(): number;
}

export class ThrottledError extends UpstreamError {
  override name = "ThrottledError";
}

export function createUpstreamGuard(options: UpstreamGuardOptions): UpstreamGuard {
  const { now, logger } = options;
  /** Start times of the calls in the last minute, oldest first. */
  const recentCalls: number[] = [];
  let backoff: { until: number; code: UpstreamErrorCode } | undefined;

  const forgetOldCalls = (time: number) => {
    while (recentCalls.length > 0 && time - recentCalls[0]! >= MINUTE_MS) recentCalls.shift();
  };

  return {
    admit() {
      const time = now();
      if (backoff && time < backoff.until) {
        throw new ThrottledError(backoff.code, "Backing off after OpenWeatherMap refused the key");
      }
      forgetOldCalls(time);
      if (recentCalls.length >= options.maxCallsPerMinute) {
        throw new ThrottledError(
          "UPSTREAM_RATE_LIMITED",
          `OPENWEATHER_MAX_CALLS_PER_MINUTE (${options.maxCallsPerMinute}) reached`,
        );
      }
      recentCalls.push(time);
    },
    observe(error) {
      if (error.code !== "UPSTREAM_RATE_LIMITED" && error.code !== "UPSTREAM_AUTH_FAILED") return;
      const alreadyBackingOff = backoff !== undefined && now() < backoff.until;
      backoff = { until: now() + options.backoffMs, code: error.code };
      if (!alreadyBackingOff) {
        logger.warn("OpenWeatherMap refused the key; not calling it until the back-off ends", {
          error_code: error.code,
          until: new Date(backoff.until).toISOString(),
        });
      }
    },
    remainingCalls() {
      forgetOldCalls(now());
      return Math.max(0, options.maxCallsPerMinute - recentCalls.length);
    },
  };
}
