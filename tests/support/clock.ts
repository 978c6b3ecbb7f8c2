import type { TimerId, Timers } from "../../src/process/timeout.ts";

/** A clock tests move by hand, so nothing waits on real time. */
export class TestClock {
  readonly #timers = new Map<number, { at: number; callback: () => void }>();
  #nextTimer = 1;

  constructor(private current = Date.parse("2026-06-01T12:00:00Z")) {}
  readonly now = (): number => this.current;

  /** Timers on this clock, for withTimeout() and RequestDeadlines: they fire as `advance` passes them. */
  readonly timers: Timers = {
    set: (callback, ms) => {
      const id = this.#nextTimer++;
      this.#timers.set(id, { at: this.current + ms, callback });
      return id as unknown as TimerId;
    },
    clear: (timer) => void this.#timers.delete(timer as unknown as number),
  };

  /** Timers set and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    this.current += ms;
    const due = [...this.#timers].filter(([, timer]) => timer.at <= this.current)
      .sort(([, a], [, b]) => a.at - b.at);
    for (const [id, timer] of due) {
      if (this.#timers.delete(id)) timer.callback();
    }
  }

  seconds(): number {
    return Math.floor(this.current / 1000);
  }
}
