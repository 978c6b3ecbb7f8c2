/**
 * Deadlines, one way: a signal that aborts when time is up, and work raced
 * against it. `withTimeout` bounds one piece of work; `withDeadline` gives
 * several steps one signal to race (`untilAborted`) or to hand to an API that
 * can stop early. Work that loses the race carries on in the background; its
 * late outcome is dropped (a late rejection counts as handled). An API that
 * takes a signal of its own (fetch, undici) is simply given
 * `AbortSignal.timeout(ms)`. Requests, many at once and all of one length,
 * share `RequestDeadlines`: the same signal, on one timer.
 */

/** The reason a deadline's signal aborts with, and what `withTimeout` rejects with. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

export type TimerId = ReturnType<typeof setTimeout>;

/** Where deadlines get their timers: the global ones, or a clock a test moves by hand. */
export interface Timers {
  set(callback: () => void, ms: number): TimerId;
  clear(timer: TimerId): void;
}

export const SYSTEM_TIMERS: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (timer) => clearTimeout(timer),
};

export interface DeadlineOptions {
  /** The TimeoutError's message; by default "No answer within <ms> ms". */
  message?: string;
  timers?: Timers | undefined;
}

/**
 * Runs `work` with a signal that aborts `ms` from now, with a TimeoutError as
 * its reason. The timer is cleared as soon as `work` settles, so it never
 * outlives the work.
 */
export async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  options: DeadlineOptions = {},
): Promise<T> {
  const timers = options.timers ?? SYSTEM_TIMERS;
  const controller = new AbortController();
  const timer = timers.set(
    () => controller.abort(new TimeoutError(options.message ?? `No answer within ${ms} ms`)),
    ms,
  );
  try {
    return await work(controller.signal);
  } finally {
    timers.clear(timer);
  }
}

/** `work`'s outcome, or a TimeoutError once `ms` have passed, whichever comes first. */
export function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  options: DeadlineOptions = {},
): Promise<T> {
  return withDeadline((signal) => untilAborted(work(signal), signal), ms, options);
}

/** `work`'s outcome, or a rejection with `signal.reason` as soon as `signal` aborts. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const onAbort = () => reject(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  return promise;
}

/**
 * `setTimeout` for housekeeping that must never keep the process alive on its
 * own (the log batch). (Deno 2.5's global timers are numbers, Deno 2.9's
 * Node-style `Timeout` objects; `Deno.unrefTimer` takes both, whatever its
 * declared type says.)
 */
export function setBackgroundTimeout(callback: () => void, ms: number): TimerId {
  const timer = setTimeout(callback, ms);
  Deno.unrefTimer(timer as unknown as number);
  return timer;
}

/**
 * Timers that never keep the process alive. (Each is called through an arrow:
 * Deno 2.5's web timers throw "Illegal invocation" when called as a method of
 * another object.)
 */
const BACKGROUND_TIMERS: Timers = {
  set: (callback, ms) => setBackgroundTimeout(callback, ms),
  clear: (timer) => clearTimeout(timer),
};

/** A call's deadline: both reach their end, with the same TimeoutError, at the same moment. */
export interface RequestDeadline {
  readonly signal: AbortSignal;
  /** Never resolves; rejects when the deadline is reached. Whoever holds it must handle that. */
  readonly expired: Promise<never>;
}

interface PendingDeadline {
  readonly expiresAt: number;
  readonly controller: AbortController;
  readonly expired: Promise<never>;
  readonly expire: (reason: TimeoutError) => void;
}

/**
 * Deadlines of one length for many calls at once (every request's
 * REQUEST_DEADLINE_MS), on one timer. A timer per request cost a third of the
 * hot path's CPU in Deno 2.9 (about 19 of 70 µs per request, measured with
 * wrk in issue 20), where adding to a Set and deleting from it costs next to
 * nothing. Deadlines of one length expire in the order they began, which is
 * the order a Set keeps, so the timer only ever waits for the oldest; once
 * nothing is pending it fires once more and stops. It never keeps the process
 * alive.
 */
export class RequestDeadlines {
  readonly #pending = new Set<PendingDeadline>();
  readonly #timers: Timers;
  readonly #now: () => number;
  #timer: TimerId | undefined;

  constructor(
    readonly ms: number,
    options: { timers?: Timers; now?: () => number } = {},
  ) {
    this.#timers = options.timers ?? BACKGROUND_TIMERS;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Runs `work` with a deadline `ms` from now: a signal that aborts then, and
   * a promise that rejects then, both with a TimeoutError. The promise lets
   * each step race the deadline with a plain `Promise.race`; the signal is
   * for what takes one (the weather lookup).
   */
  async run<T>(work: (deadline: RequestDeadline) => Promise<T>): Promise<T> {
    const expired = Promise.withResolvers<never>();
    const deadline: PendingDeadline = {
      expiresAt: this.#now() + this.ms,
      controller: new AbortController(),
      expired: expired.promise,
      expire: expired.reject,
    };
    this.#pending.add(deadline);
    this.#timer ??= this.#timers.set(this.#expire, this.ms);
    try {
      return await work({ signal: deadline.controller.signal, expired: deadline.expired });
    } finally {
      this.#pending.delete(deadline);
    }
  }

  /** Calls running and not yet past their deadline. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Stops the timer; deadlines still pending will not fire. For shutdown. */
  close(): void {
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = this.#now();
    for (const deadline of this.#pending) {
      if (deadline.expiresAt > now) {
        this.#timer = this.#timers.set(this.#expire, deadline.expiresAt - now);
        return;
      }
      this.#pending.delete(deadline);
      const reason = new TimeoutError(`No answer within ${this.ms} ms`);
      deadline.expire(reason);
      deadline.controller.abort(reason);
    }
  };
}
