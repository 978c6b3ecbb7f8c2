/**
 * Deadlines of one fixed length (REQUEST_DEADLINE_MS) for many requests at
 * once, on a single timer.
 *
 * A timer per request was a quarter of the hot path's cost under load: in
 * Deno 2.9 the global `setTimeout` is the Node-compatible `Timeout`, and each
 * one is created, scheduled and cancelled through ops. Since every deadline
 * has the same length, deadlines expire in the order they were armed, so a
 * queue (a doubly linked list: O(1) to arm, O(1) to cancel) and one timer for
 * its oldest entry are enough. The timer is left running when the queue
 * empties (a cached answer is often done before the next request arrives, and
 * clearing it then would mean a timer per request again); when it fires it
 * re-arms only for what is still queued, so an idle service holds no timer
 * once a deadline's length has passed. It does not keep the process alive.
 */

import { setBackgroundTimeout, type TimerId } from "../process/background_timer.ts";

export interface Deadline {
  /** The request finished in time: its deadline will not fire. */
  cancel(): void;
}

/** What a deadline is for: told once the deadline's length has passed. */
export interface DeadlineTarget {
  expired(): void;
}

export interface DeadlineQueue {
  /** Tells `target` once the queue's length has passed, unless cancelled first. */
  arm(target: DeadlineTarget): Deadline;
  /** Entries armed and neither expired nor cancelled; for tests. */
  readonly pending: number;
  /** Stops the timer; deadlines still queued will not fire. For shutdown. */
  close(): void;
}

export interface DeadlineClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** A timer that does not keep the process alive. */
  setTimer(callback: () => void, delayMs: number): TimerId;
  clearTimer(id: TimerId): void;
}

const SYSTEM_CLOCK: DeadlineClock = {
  now: () => performance.now(),
  setTimer: setBackgroundTimeout,
  clearTimer: (id) => clearTimeout(id),
};

export function createDeadlineQueue(
  lengthMs: number,
  clock: DeadlineClock = SYSTEM_CLOCK,
): DeadlineQueue {
  return new LinkedDeadlines(lengthMs, clock);
}

/** One armed deadline, linked in the order armed (which is the order they expire in). */
class Entry implements Deadline {
  previous: Entry | undefined;
  next: Entry | undefined;
  linked = true;

  constructor(
    private readonly queue: LinkedDeadlines,
    readonly expiresAt: number,
    readonly target: DeadlineTarget,
  ) {}

  cancel(): void {
    this.queue.unlink(this);
  }
}

class LinkedDeadlines implements DeadlineQueue {
  #oldest: Entry | undefined;
  #newest: Entry | undefined;
  #pending = 0;
  #timer: TimerId | undefined;
  readonly #expire = () => this.#expireDue();

  constructor(private readonly lengthMs: number, private readonly clock: DeadlineClock) {}

  get pending(): number {
    return this.#pending;
  }

  arm(target: DeadlineTarget): Deadline {
    const entry = new Entry(this, this.clock.now() + this.lengthMs, target);
    entry.previous = this.#newest;
    if (this.#newest) this.#newest.next = entry;
    else this.#oldest = entry;
    this.#newest = entry;
    this.#pending++;
    if (this.#timer === undefined) this.#schedule();
    return entry;
  }

  unlink(entry: Entry): void {
    if (!entry.linked) return;
    entry.linked = false;
    this.#pending--;
    if (entry.previous) entry.previous.next = entry.next;
    else this.#oldest = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    else this.#newest = entry.previous;
    entry.previous = entry.next = undefined;
  }

  close(): void {
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#oldest = this.#newest = undefined;
    this.#pending = 0;
  }

  #schedule(): void {
    if (this.#oldest === undefined) return;
    this.#timer = this.clock.setTimer(
      this.#expire,
      Math.max(0, this.#oldest.expiresAt - this.clock.now()),
    );
  }

  #expireDue(): void {
    this.#timer = undefined;
    const now = this.clock.now();
    while (this.#oldest !== undefined && this.#oldest.expiresAt <= now) {
      const entry = this.#oldest;
      this.unlink(entry);
      entry.target.expired();
    }
    if (this.#timer === undefined) this.#schedule();
  }
}
