/**
 * Slows down guessing of a secret without ever refusing the right one.
 *
 * Credentials are always checked first; only a failure consults this
 * module. Failures are counted per key, the identity presented (Basic user
 * name, OAuth client id) together with the client's address (an IPv6 one by
 * its /64), so a guesser spends only its own key. Each failure past the
 * first few is answered a little later (a bounded, growing delay), and past
 * maxFailures within the window the failure is answered `429` with
 * `Retry-After` instead of `401`.
 * A correct credential from the same key is answered at once, whatever the
 * count: Genesys Cloud calls from address pools its region's customers
 * share, so counting by address alone would let anyone there lock it out.
 */

import { LRUCache } from "lru-cache";
import { addressBlock } from "../http/client_address.ts";

export interface FailureThrottleOptions {
  maxFailures: number;
  windowMs: number;
  now: () => number;
  /** Keys remembered at once; the oldest are forgotten first. */
  maxKeys?: number;
  /** Failures within the window answered without delay (typos happen). */
  freeFailures?: number;
  /** Added to the delay for every failure past the free ones. */
  delayStepMs?: number;
  /** The delay never grows past this, so a slot is never held for long. */
  maxDelayMs?: number;
}

/** How to answer one failure. */
export interface FailureAnswer {
  /** Wait this long before answering. */
  delayMs: number;
  /** When above 0: answer 429 with this Retry-After instead of 401. */
  retryAfterS: number;
}

export interface FailureThrottle {
  recordFailure(key: string): FailureAnswer;
}

interface Window {
  startedAt: number;
  failures: number;
}

/** Presented ids are attacker-chosen: only so much of one goes into a key. */
const MAX_KEY_ID_LENGTH = 128;

/**
 * The address part's bound. A block is at most 24 characters
 * (`ffff:ffff:ffff:ffff::/64`); this only guards against anything longer
 * ever reaching a key, since keys are kept (up to maxKeys of them).
 */
const MAX_KEY_ADDRESS_LENGTH = 64;

/**
 * The key failures are counted under: who was claimed, from where. "Where"
 * is the client address's block (see addressBlock): an IPv6 client owns a
 * whole /64, and counted per address it would have a fresh count for every
 * guess. The client address itself stays the real one, since what the
 * resolver answers should mean what it says; grouping is this count's policy.
 */
export function failureKey(presentedId: string, clientAddress: string): string {
  const block = addressBlock(clientAddress).slice(0, MAX_KEY_ADDRESS_LENGTH);
  return `${presentedId.slice(0, MAX_KEY_ID_LENGTH)}\u0000${block}`;
}

export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const freeFailures = options.freeFailures ?? 5;
  const delayStepMs = options.delayStepMs ?? 50;
  const maxDelayMs = options.maxDelayMs ?? 1000;
  const windows = new LRUCache<string, Window>({ max: options.maxKeys ?? 10_000 });
  return {
    recordFailure(key) {
      const now = options.now();
      let window = windows.get(key);
      if (window === undefined || now - window.startedAt >= options.windowMs) {
        window = { startedAt: now, failures: 0 };
        windows.set(key, window);
      }
      window.failures++;
      const delayMs = Math.min(
        maxDelayMs,
        Math.max(0, window.failures - freeFailures) * delayStepMs,
      );
      const retryAfterS = window.failures > options.maxFailures
        ? Math.max(1, Math.ceil((window.startedAt + options.windowMs - now) / 1000))
        : 0;
      return { delayMs, retryAfterS };
    },
  };
}

/** Waits out a failure's delay. */
export function delayFailure(answer: FailureAnswer): Promise<void> {
  if (answer.delayMs <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, answer.delayMs));
}
