/**
 * At most one pending timer per key, for work planned ahead of time (a
 * refresh before a cached answer expires). Planning a key that is already
 * planned changes nothing, and at most `max` keys wait at once, so memory
 * stays bounded whatever callers ask. All are cleared at once on close.
 */

import type { TimerId, Timers } from "./timeout.ts";

export interface KeyedTimers<K> {
  /**
   * Runs `work` in `ms` (at once if not positive), unless `key` already has
   * a timer pending, `max` keys do, or the timers are closed.
   */
  plan(key: K, ms: number, work: () => void): void;
  /** Clears every pending timer; nothing is planned any more. */
  close(): void;
}

export function createKeyedTimers<K>(options: { timers: Timers; max: number }): KeyedTimers<K> {
  const { timers, max } = options;
  const pending = new Map<K, TimerId>();
  let closed = false;
  return {
    plan(key, ms, work) {
      if (closed || pending.has(key) || pending.size >= max) return;
      pending.set(
        key,
        timers.set(() => {
          pending.delete(key);
          work();
        }, Math.max(0, ms)),
      );
    },
    close() {
      closed = true;
      for (const timer of pending.values()) timers.clear(timer);
      pending.clear();
    },
  };
}
