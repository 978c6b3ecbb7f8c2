/**
 * Counts failed authentication attempts per client address and refuses an
 * address that failed too often within a window, so secrets cannot be
 * guessed at network speed. Successful callers at other addresses (Genesys)
 * are not affected by someone else's failures.
 */

import { LRUCache } from "lru-cache";

export interface FailureThrottleOptions {
  maxFailures: number;
  windowMs: number;
  now: () => number;
  /** Addresses remembered at once; the oldest are forgotten first. */
  maxAddresses?: number;
}

export interface FailureThrottle {
  /** Seconds until the address may try again, or 0 when it may try now. */
  retryAfterS(address: string): number;
  recordFailure(address: string): void;
}

interface Window {
  startedAt: number;
  failures: number;
}

export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const windows = new LRUCache<string, Window>({ max: options.maxAddresses ?? 10_000 });
  const current = (address: string) => {
    const window = windows.get(address);
    return window && options.now() - window.startedAt < options.windowMs ? window : undefined;
  };
  return {
    retryAfterS(address) {
      const window = current(address);
      if (!window || window.failures < options.maxFailures) return 0;
      return Math.max(1, Math.ceil((window.startedAt + options.windowMs - options.now()) / 1000));
    },
    recordFailure(address) {
      const window = current(address);
      if (window) window.failures++;
      else windows.set(address, { startedAt: options.now(), failures: 1 });
    },
  };
}
