/**
 * Deadlines, two shapes of one idea: work raced against a timer that rejects
 * with a TimeoutError. `withTimeout` bounds one piece of work on its own
 * timer; `RequestDeadlines` gives every request (many at once, all of one
 * length) a deadline promise on one shared timer. Work that loses the race
 * carries on in the background; its late outcome is dropped (a late rejection
 * counts as handled). An API that takes a signal of its own (fetch, undici) is
 * simply given `AbortSignal.timeout(ms)`.
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
 * `work`'s outcome, or a TimeoutError once `ms` have passed, whichever comes
 * first. `work` is given a signal that aborts then, for what can stop early.
 * The timer is cleared as soon as `work` settles, so it never outlives it.
 */
export function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  options: DeadlineOptions = {},
): Promise<T> {
  const timers = options.timers ?? SYSTEM_TIMERS;
  const controller = new AbortController();
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const timer = timers.set(() => {
    const reason = new TimeoutError(options.message ?? `No answer within ${ms} ms`);
    controller.abort(reason);
    reject(reason);
  }, ms);
  work(controller.signal).then(resolve, reject).finally(() => timers.clear(timer));
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
export const BACKGROUND_TIMERS: Timers = {
  set: (callback, ms) => setBackgroundTimeout(callback, ms),
  clear: (timer) => clearTimeout(timer),
};

/** What a request's deadline rejects with: told apart from any other timeout by its class. */
export class DeadlineReached extends TimeoutError {
  override name = "DeadlineReached";
}

interface PendingDeadline {
  readonly expiresAt: number;
  readonly expire: (reason: DeadlineReached) => void;
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
   * Runs `work` with its deadline: a promise that never resolves and rejects,
   * with a DeadlineReached, `ms` from now. Each step races it with
   * `Promise.race`; `work` must handle its rejection even when no step is
   * waiting on it any more.
   */
  async run<T>(work: (deadline: Promise<never>) => Promise<T>): Promise<T> {
    const { promise, reject } = Promise.withResolvers<never>();
    const pending: PendingDeadline = { expiresAt: this.#now() + this.ms, expire: reject };
    this.#pending.add(pending);
    this.#timer ??= this.#timers.set(this.#expire, this.ms);
    try {
      return await work(promise);
    } finally {
      this.#pending.delete(pending);
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
      deadline.expire(new DeadlineReached(`No answer within ${this.ms} ms`));
    }
  };
}
