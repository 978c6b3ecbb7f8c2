/**
 * The shared store on Deno KV: Deno Deploy's own database (`kv:`), a local
 * file (`kv:/path`), or a self-hosted denokv (`https://`, with
 * `DENO_KV_ACCESS_TOKEN`, which Deno reads itself). Loaded only when
 * SHARED_STORE_URL names KV; `Deno.openKv` needs `--unstable-kv`, which
 * deno.json's `"unstable": ["kv"]` turns on for every task.
 *
 * KV has no clock of its own, so the budget window runs on each instance's
 * clock (keep them in NTP sync, as Deno Deploy's are), and it is counted in
 * 100 ms buckets so the value stays small whatever the limit: a call leaves
 * the window up to 100 ms late, never early.
 */

import type { BudgetAnswer, StoreBackend } from "./backend.ts";

const BUCKET_MS = 100;
const MAX_ATTEMPTS = 8;

/** [bucket start ms, calls, calls for unknown names] */
type Bucket = [number, number, number];

interface Backoff {
  code: string;
  until: number;
}

/**
 * A KV file that several processes share (`kv:/path`) is SQLite, which refuses
 * a write while another process holds its lock ("database is locked") rather
 * than waiting. That is contention, not a store that is down: tried again,
 * after 1, 2, 3 … ms, up to MAX_ATTEMPTS times (the store's timeout bounds it
 * all). Every write goes through it. Deno Deploy's KV never says it.
 */
async function retryWhileLocked<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !String(error).includes("database is locked")) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt));
    }
  }
}

export class KvUnavailableError extends Error {
  override name = "KvUnavailableError";
}

export async function openKvBackend(
  connection: string | undefined,
  now: () => number,
): Promise<StoreBackend> {
  // Looked up, not referenced, so this module also loads where KV is not enabled.
  const openKv = (Deno as { openKv?: (path?: string) => Promise<Deno.Kv> }).openKv;
  if (typeof openKv !== "function") {
    throw new KvUnavailableError(
      'Deno KV is not enabled: run with --unstable-kv (deno.json "unstable": ["kv"] does it for the tasks)',
    );
  }
  const kv = await openKv(connection);

  return {
    kind: "kv",
    async getMany(keys) {
      const entries = await kv.getMany<unknown[]>(keys.map((key) => [key]));
      return entries.map((entry) => (typeof entry.value === "string" ? entry.value : undefined));
    },
    async write(sets, deletes) {
      const result = await retryWhileLocked(() => {
        const operation = kv.atomic();
        for (const { key, value, ttlMs } of sets) operation.set([key], value, { expireIn: ttlMs });
        for (const key of deletes) operation.delete([key]);
        return operation.commit();
      });
      if (!result.ok) throw new Error("Deno KV refused the write");
    },
    async admit(keys, request): Promise<BudgetAnswer> {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const time = now();
        const [budget, backoff] = await kv.getMany<[Bucket[], Backoff]>([[keys.all], [
          keys.backoff,
        ]]);
        // Expiry in KV is lazy, so the back-off carries its own end.
        const off = backoff.value;
        if (off && typeof off.until === "number" && off.until > time) {
          return {
            admitted: false,
            reason: "backoff",
            code: String(off.code),
            remainingMs: off.until - time,
          };
        }
        const buckets = (Array.isArray(budget.value) ? budget.value : []).filter((bucket) =>
          bucket[0] + BUCKET_MS > time - request.windowMs
        );
        const calls = buckets.reduce((sum, bucket) => sum + bucket[1], 0);
        const unknownCalls = buckets.reduce((sum, bucket) => sum + bucket[2], 0);
        if (calls >= request.limit) return { admitted: false, reason: "limit" };
        if (request.unknown && unknownCalls >= request.unknownLimit) {
          return { admitted: false, reason: "unknown_share" };
        }
        const start = time - (time % BUCKET_MS);
        const last = buckets.at(-1);
        const unknown = request.unknown ? 1 : 0;
        const next: Bucket[] = last && last[0] === start
          ? [...buckets.slice(0, -1), [start, last[1] + 1, last[2] + unknown]]
          : [...buckets, [start, 1, unknown]];
        const result = await retryWhileLocked(() =>
          kv.atomic()
            .check(budget)
            .set([keys.all], next, { expireIn: request.windowMs + BUCKET_MS })
            .commit()
        );
        if (result.ok) return { admitted: true };
        // Another instance counted a call in between: read again and retry.
      }
      throw new Error("Deno KV budget: too much contention");
    },
    claim(key, ttlMs) {
      return retryWhileLocked(async () => {
        const time = now();
        const held = await kv.get<number>([key]);
        // Expiry in KV is lazy, so the claim carries its own end, as the back-off does.
        if (typeof held.value === "number" && held.value > time) return false;
        const result = await kv.atomic()
          .check(held)
          .set([key], time + ttlMs, { expireIn: Math.max(1, ttlMs) })
          .commit();
        // Not ok: another instance claimed it between the read and the write.
        return result.ok;
      });
    },
    async startBackoff(key, code, ms) {
      const value: Backoff = { code, until: now() + ms };
      await retryWhileLocked(() => kv.set([key], value, { expireIn: Math.max(1, ms) }));
    },
    isReady: () => true,
    async ping() {
      await kv.get([" ping"]);
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
}
