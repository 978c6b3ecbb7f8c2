/** lru-cache as the service uses it for entries that expire. */

import { LRUCache } from "lru-cache";

export interface TtlCacheOptions {
  /** Entries kept at most; the least recently used goes first. */
  max: number;
  /** How long an entry lives, unless `set` says otherwise. */
  ttl: number;
  /** The clock entries expire on; tests move it instead of sleeping. */
  now: () => number;
}

/** An LRU cache whose entries expire on `now`, checked on every read. */
export function createTtlCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  options: TtlCacheOptions,
): LRUCache<K, V> {
  return new LRUCache<K, V>({
    max: options.max,
    ttl: options.ttl,
    // Read the clock on every get: the default (1 ms) arms a timer per millisecond of traffic.
    ttlResolution: 0,
    perf: { now: options.now },
  });
}
