/**
 * Runs the real service (the same createService main.ts uses) on a loopback
 * port, with its log lines captured for assertions.
 */

import { type Config, secretValues } from "../../src/config.ts";
import { loadConfigFrom } from "./config.ts";
import { createLogger } from "../../src/process/log.ts";
import { createService } from "../../src/service.ts";
import { TEST_API_KEY } from "./fake_openweather.ts";

export interface RunningService {
  readonly url: URL;
  readonly config: Config;
  /** Every log line written so far, raw, as it would reach stdout. */
  readonly logLines: string[];
  /** Resolves with the first log entry (past or future) whose message starts with `prefix`. */
  waitForLog(prefix: string): Promise<Record<string, unknown>>;
  post(path: string, body: unknown, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * For tests of how one upstream answer maps to one action answer: no cache,
 * no stale answers, no back-off carrying over from one case to the next.
 */
export const WITHOUT_UPSTREAM_PROTECTION = {
  WEATHER_CACHE_TTL_S: "0",
  WEATHER_NOT_FOUND_TTL_S: "0",
  WEATHER_STALE_MAX_S: "0",
  OPENWEATHER_BACKOFF_S: "0",
} as const;

export function testConfig(variables: Record<string, string>): Config {
  const env: Record<string, string> = {
    AUTH_MODE: "none",
    OPENWEATHER_API_KEY: TEST_API_KEY,
    LOG_LEVEL: "debug",
    ...variables,
  };
  return loadConfigFrom(env);
}

export interface StartOptions {
  /** Milliseconds since the epoch, for tests that move time. */
  now?: () => number;
}

export async function startService(
  variables: Record<string, string>,
  options: StartOptions = {},
): Promise<RunningService> {
  const config = testConfig(variables);
  const logLines: string[] = [];
  const logWaiters = new Set<(entry: Record<string, unknown>) => boolean>();
  const logger = createLogger({
    level: config.logLevel,
    secrets: secretValues(config),
    write: (line) => {
      logLines.push(line);
      const entry = JSON.parse(line);
      for (const waiter of logWaiters) if (waiter(entry)) logWaiters.delete(waiter);
    },
  });
  const service = await createService(config, logger, options);
  const { handler } = service;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const url = new URL(`http://127.0.0.1:${server.addr.port}`);
  return {
    url,
    config,
    logLines,
    waitForLog(prefix) {
      const matches = (entry: Record<string, unknown>) => String(entry.msg).startsWith(prefix);
      const seen = logLines.map((line) => JSON.parse(line)).find(matches);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        logWaiters.add((entry) => matches(entry) && (resolve(entry), true));
      });
    },
    post: (path, body, init = {}) =>
      fetch(new URL(path, url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
        ...init,
      }),
    async close() {
      await server.shutdown();
      await service.close();
    },
  };
}
