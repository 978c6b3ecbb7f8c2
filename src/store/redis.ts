/**
 * The shared store on Redis (or Valkey, or a hosted Redis), through
 * `@redis/client`, loaded only when SHARED_STORE_URL names Redis.
 *
 * Why `@redis/client` (node-redis's core, no dependencies): it works under
 * the start task's scoped `--allow-env`. ioredis does not: its `debug`
 * dependency lists all of `process.env` at import. The client's only
 * environment reads (`REDIS_DEBUG_MAINTENANCE`, `REDIS_EMIT_DIAGNOSTICS`) sit
 * behind Redis Enterprise maintenance notifications, which are turned off here
 * (they need RESP3 and a `CLIENT MAINT_NOTIFICATIONS` command Valkey and
 * older Redis refuse).
 *
 * Commands fail at once while the connection is down (no offline queue), and
 * the client reconnects in the background, so a dead Redis costs callers
 * nothing but a cache miss.
 */

import type { BudgetAnswer, StoreBackend } from "./backend.ts";
import { withTimeout } from "../process/timeout.ts";

/**
 * The budget, atomically and on Redis's clock (`TIME`): a sorted set of call
 * times per kind, trimmed to the window, checked, then added to.
 * KEYS: all calls, calls for unknown names, back-off.
 * ARGV: window ms, limit, unknown limit, "1" if unknown, a unique member id.
 */
const ADMIT_SCRIPT = `
local backoff = redis.call('GET', KEYS[3])
if backoff then return {'backoff', backoff, redis.call('PTTL', KEYS[3])} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {'limit'} end
if ARGV[4] == '1' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return {'unknown_share'}
end
local member = now .. ':' .. ARGV[5]
redis.call('ZADD', KEYS[1], now, member)
redis.call('PEXPIRE', KEYS[1], window)
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[2], now, member)
  redis.call('PEXPIRE', KEYS[2], window)
end
return {'ok'}
`;

/** Reconnection delays: quick at first, then once a second while Redis stays away. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 1_000);
}

export async function openRedisBackend(
  connection: string,
  options: { timeoutMs: number; onError: (error: unknown) => void; onReady: () => void },
): Promise<StoreBackend> {
  const { createClient } = await import("@redis/client");
  const client = createClient({
    url: connection,
    disableOfflineQueue: true,
    maintNotifications: "disabled",
    // No CLIENT SETINFO after connecting: a Redis user limited to the service's
    // commands (docs/deployment.md) would refuse it, on every connection.
    disableClientInfo: true,
    socket: {
      connectTimeout: Math.max(1_000, options.timeoutMs),
      reconnectStrategy: reconnectDelay,
    },
  });
  // Without a listener an "error" event would throw; failures show through the calls instead.
  client.on("error", options.onError);
  client.on("ready", options.onReady);
  // Waited for briefly, so the first requests find it connected; an unreachable
  // Redis at start-up must not stop (or long delay) the service.
  const connected = client.connect().then(() => true, (error) => {
    options.onError(error);
    return false;
  });
  await withTimeout(() => connected, Math.max(500, options.timeoutMs)).catch(() => false);

  return {
    kind: "redis",
    async getMany(keys) {
      const values = await client.mGet([...keys]);
      return values.map((value) => (typeof value === "string" ? value : undefined));
    },
    async write(sets, deletes) {
      const batch = client.multi();
      for (const { key, value, ttlMs } of sets) {
        batch.set(key, value, { expiration: { type: "PX", value: ttlMs } });
      }
      if (deletes.length > 0) batch.del([...deletes]);
      await batch.exec();
    },
    async admit(keys, request): Promise<BudgetAnswer> {
      const reply = await client.eval(ADMIT_SCRIPT, {
        keys: [keys.all, keys.unknown, keys.backoff],
        arguments: [
          String(request.windowMs),
          String(request.limit),
          String(request.unknownLimit),
          request.unknown ? "1" : "0",
          crypto.randomUUID(),
        ],
      }) as unknown;
      if (!Array.isArray(reply)) throw new Error("Unexpected reply to the budget script");
      switch (reply[0]) {
        case "ok":
          return { admitted: true };
        case "limit":
        case "unknown_share":
          return { admitted: false, reason: reply[0] };
        case "backoff":
          return {
            admitted: false,
            reason: "backoff",
            code: String(reply[1]),
            remainingMs: Math.max(0, Number(reply[2])),
          };
        default:
          throw new Error("Unexpected reply to the budget script");
      }
    },
    async claim(key, ttlMs) {
      const reply = await client.set(key, "1", {
        condition: "NX",
        expiration: { type: "PX", value: Math.max(1, ttlMs) },
      });
      return reply === "OK";
    },
    async startBackoff(key, code, ms) {
      await client.set(key, code, { expiration: { type: "PX", value: Math.max(1, ms) } });
    },
    isReady: () => client.isReady,
    async ping() {
      await client.ping();
    },
    async close() {
      client.off("error", options.onError);
      client.off("ready", options.onReady);
      client.on("error", () => {});
      // QUIT waits for Redis's reply; a Redis that no longer answers gets no say.
      if (client.isReady) {
        await withTimeout(() => client.close(), options.timeoutMs).catch(() => client.destroy());
      } else {
        client.destroy();
      }
    },
  };
}
