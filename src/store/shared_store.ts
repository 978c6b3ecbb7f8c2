/**
 * The shared store as the rest of the service sees it: keys under
 * SHARED_STORE_PREFIX, every call bounded by SHARED_STORE_TIMEOUT_MS, and
 * failing open. A call that fails, times out or cannot be made answers
 * `undefined` ("no store right now"), never an exception, so callers fall back
 * to their own memory and their local share of the budget.
 *
 * After a failure the store counts as down: calls are not even tried (they
 * would only add latency), and a probe pings it once a second until it
 * answers. Each change of state is logged once and shown on /metrics as
 * `shared_store_up`.
 *
 * The engine's client is imported only here, only when configured, so a
 * single process without SHARED_STORE_URL loads neither Redis nor KV code.
 */

import type { Logger } from "../process/log.ts";
import { withTimeout } from "../process/timeout.ts";
import type { MetricsRegistry } from "../process/metrics.ts";
import type { BudgetAnswer, BudgetRequest, StoreBackend } from "./backend.ts";
import type { SharedStoreConfig, SharedStoreTarget } from "./config.ts";
import { STORE_METRICS } from "./metrics.ts";

export type { BudgetAnswer, BudgetRequest } from "./backend.ts";

const PROBE_INTERVAL_MS = 1_000;

export interface SharedStore {
  readonly backend: "redis" | "kv";
  /** Values by key (prefix added here); undefined when the store is unavailable. */
  getMany(keys: readonly string[]): Promise<(string | undefined)[] | undefined>;
  /** True when written. */
  write(
    sets: readonly { key: string; value: string; ttlMs: number }[],
    deletes?: readonly string[],
  ): Promise<boolean>;
  /** The shared budget's answer; undefined when the store is unavailable. */
  admit(request: BudgetRequest): Promise<BudgetAnswer | undefined>;
  startBackoff(code: string, ms: number): Promise<boolean>;
  /**
   * Takes `key` for `ttlMs` unless another instance holds it: true when
   * taken, false when another holds it, undefined when the store is
   * unavailable.
   */
  claim(key: string, ttlMs: number): Promise<boolean | undefined>;
  /** Counts a value the store held that could not be read (an error, like a failed call). */
  reportGarbage(): void;
  close(): Promise<void>;
}

/** The store could not even be set up (KV not enabled); start-up stops. */
export class SharedStoreError extends Error {
  override name = "SharedStoreError";
}

export interface SharedStoreDeps {
  logger: Logger;
  metrics: MetricsRegistry;
  now: () => number;
}

export async function openSharedStore(
  config: SharedStoreConfig & { target: SharedStoreTarget },
  deps: SharedStoreDeps,
): Promise<SharedStore> {
  const { target } = config;
  let connectionError: (error: unknown) => void = () => {};
  let connectionReady: () => void = () => {};
  let backend: StoreBackend;
  if (target.kind === "redis") {
    const { openRedisBackend } = await import("./redis.ts");
    backend = await openRedisBackend(target.connection, {
      timeoutMs: config.timeoutMs,
      onError: (error) => connectionError(error),
      onReady: () => connectionReady(),
    });
  } else {
    const { openKvBackend, KvUnavailableError } = await import("./kv.ts");
    try {
      backend = await openKvBackend(target.connection, deps.now);
    } catch (error) {
      if (error instanceof KvUnavailableError) throw new SharedStoreError(error.message);
      throw new SharedStoreError(`Deno KV at ${target.location} could not be opened`, {
        cause: error,
      });
    }
  }
  const store = failingOpen(backend, config, target.location, deps);
  connectionError = store.connectionError;
  connectionReady = store.connectionReady;
  if (!backend.isReady()) store.connectionError(new Error("Not connected at start-up"));
  return store;
}

function failingOpen(
  backend: StoreBackend,
  config: SharedStoreConfig,
  location: string,
  deps: SharedStoreDeps,
): SharedStore & { connectionError(error: unknown): void; connectionReady(): void } {
  const { logger } = deps;
  const metrics = deps.metrics.recorders(STORE_METRICS);
  const { prefix, timeoutMs } = config;
  const name = backend.kind;
  let up = true;
  let probe: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  metrics.up.set(1, name);

  const markUp = () => {
    if (up) return;
    up = true;
    clearInterval(probe);
    probe = undefined;
    metrics.up.set(1, name);
    logger.info("Shared store available again: cache and budget are shared", {
      store: location,
    });
  };
  const markDown = (operation: string, error: unknown) => {
    if (!up || closed) return;
    up = false;
    metrics.up.set(0, name);
    logger.warn(
      "Shared store unavailable: caching in memory and using this instance's share of the budget",
      { store: location, operation, error },
    );
    probe = setInterval(() => {
      bounded(() => backend.ping()).then(markUp, () => {});
    }, PROBE_INTERVAL_MS);
  };

  const bounded = <T>(call: () => Promise<T>): Promise<T> =>
    withTimeout(call, timeoutMs, {
      message: `No answer within SHARED_STORE_TIMEOUT_MS (${timeoutMs} ms)`,
    });

  async function attempt<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
    if (!up || closed) return undefined;
    try {
      return await bounded(call);
    } catch (error) {
      metrics.errors.inc(name, operation);
      markDown(operation, error);
      return undefined;
    }
  }

  const keyOf = (key: string) => prefix + key;
  return {
    backend: name,
    getMany: (keys) => attempt("read", () => backend.getMany(keys.map(keyOf))),
    write: async (sets, deletes = []) =>
      (await attempt(
        "write",
        () =>
          backend.write(
            sets.map((set) => ({ ...set, key: keyOf(set.key) })),
            deletes.map(keyOf),
          ).then(() => true),
      )) ?? false,
    admit: (request) =>
      attempt("budget", () =>
        backend.admit({
          all: keyOf("budget:all"),
          unknown: keyOf("budget:unknown"),
          backoff: keyOf("backoff"),
        }, request)),
    startBackoff: async (code, ms) =>
      (await attempt(
        "backoff",
        () => backend.startBackoff(keyOf("backoff"), code, ms).then(() => true),
      )) ?? false,
    claim: (key, ttlMs) => attempt("claim", () => backend.claim(keyOf(key), ttlMs)),
    reportGarbage: () => metrics.errors.inc(name, "decode"),
    connectionError(error) {
      // The client reports a lost connection before any call fails: mark it down now.
      if (!closed) metrics.errors.inc(name, "connection");
      markDown("connection", error);
    },
    connectionReady: markUp,
    async close() {
      closed = true;
      clearInterval(probe);
      await backend.close();
    },
  };
}
