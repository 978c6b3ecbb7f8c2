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

export interface Deadline {
  /** The request finished in time: its deadline will not fire. */
  cancel(): void;
}

export interface DeadlineQueue {
  /** Calls `onExpired` once the queue's length has passed, unless cancelled first. */
  arm(onExpired: () => void): Deadline;
  /** Entries armed and neither expired nor cancelled; for tests. */
  readonly pending: number;
  /** Stops the timer; deadlines still queued will not fire. For shutdown. */
  close(): void;
}

type TimerId = ReturnType<typeof setTimeout>;

export interface DeadlineClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** A timer that does not keep the process alive. */
  setTimer(callback: () => void, delayMs: number): TimerId;
  clearTimer(id: TimerId): void;
}

const SYSTEM_CLOCK: DeadlineClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    // Deno 2.9's global timers are Node's Timeout objects; Deno 2.5's are numbers.
    const handle: unknown = timer;
    if (typeof handle === "number") Deno.unrefTimer(handle);
    else timer.unref();
    return timer;
  },
  clearTimer: (id) => clearTimeout(id),
};

interface Entry extends Deadline {
  readonly expiresAt: number;
  readonly onExpired: () => void;
  previous: Entry | undefined;
  next: Entry | undefined;
  linked: boolean;
}

export function createDeadlineQueue(
  lengthMs: number,
  clock: DeadlineClock = SYSTEM_CLOCK,
): DeadlineQueue {
  let oldest: Entry | undefined;
  let newest: Entry | undefined;
  let pending = 0;
  let timer: TimerId | undefined;

  const unlink = (entry: Entry) => {
    if (!entry.linked) return;
    entry.linked = false;
    pending--;
    if (entry.previous) entry.previous.next = entry.next;
    else oldest = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    else newest = entry.previous;
    entry.previous = entry.next = undefined;
  };

  const schedule = () => {
    if (oldest === undefined) return;
    timer = clock.setTimer(expire, Math.max(0, oldest.expiresAt - clock.now()));
  };

  function expire(): void {
    timer = undefined;
    const now = clock.now();
    while (oldest !== undefined && oldest.expiresAt <= now) {
      const entry = oldest;
      unlink(entry);
      entry.onExpired();
    }
    if (timer === undefined) schedule();
  }

  return {
    arm(onExpired) {
      const entry: Entry = {
        expiresAt: clock.now() + lengthMs,
        onExpired,
        previous: newest,
        next: undefined,
        linked: true,
        cancel: () => unlink(entry),
      };
      if (newest) newest.next = entry;
      else oldest = entry;
      newest = entry;
      pending++;
      if (timer === undefined) schedule();
      return entry;
    },
    get pending() {
      return pending;
    },
    close() {
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
      oldest = newest = undefined;
      pending = 0;
    },
  };
}
