/**
 * What the service needs from a shared store, whatever the engine: reads and
 * writes of short-lived values, one atomic "may I call OpenWeatherMap?" that
 * checks the shared back-off and counts the call in a sliding 60 s window
 * shared by every instance, and an atomic claim, so one instance of many
 * does a piece of work. Redis (redis.ts) and Deno KV (kv.ts)
 * implement it; shared_store.ts makes either one fail open.
 */

export interface BudgetRequest {
  /** Calls allowed in any `windowMs`, across every instance. */
  readonly limit: number;
  /** Of those, calls allowed for names never answered before. */
  readonly unknownLimit: number;
  /** Whether this call is for such a name. */
  readonly unknown: boolean;
  readonly windowMs: number;
}

export type BudgetAnswer =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: "limit" | "unknown_share" }
  | {
    readonly admitted: false;
    readonly reason: "backoff";
    /** The error code that started the back-off. */
    readonly code: string;
    readonly remainingMs: number;
  };

export interface StoreWrite {
  readonly key: string;
  readonly value: string;
  readonly ttlMs: number;
}

/** Keys are full keys (prefix included); every call may reject, which the caller treats as "store down". */
export interface StoreBackend {
  readonly kind: "redis" | "kv";
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Sets and deletes in one round trip. */
  write(sets: readonly StoreWrite[], deletes: readonly string[]): Promise<void>;
  /**
   * Atomically: refused while `backoffKey` is set; otherwise counts the call
   * in `budgetKeys` if the window has room for it.
   */
  admit(
    keys: { readonly all: string; readonly unknown: string; readonly backoff: string },
    request: BudgetRequest,
  ): Promise<BudgetAnswer>;
  /**
   * Atomically takes `key` for `ttlMs` unless someone holds it: true for the
   * one caller that got it, false for all others until it lapses.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Every instance's next admit() is refused with `code` for `ms`. */
  startBackoff(key: string, code: string, ms: number): Promise<void>;
  /** Whether it is connected now (at start-up: whether it could connect in time). */
  isReady(): boolean;
  /** Resolves when the store answers at all, for the recovery probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
