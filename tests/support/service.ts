/**
 * Runs the real service (the same createService main.ts uses) on a loopback
 * port, with its log lines captured for assertions.
 */

import { type Config, secretValues } from "../../src/config.ts";
import { loadConfigFrom } from "./config.ts";
import { createLogger } from "../../src/process/log.ts";
import { createService } from "../../src/service.ts";
import { TestClock } from "./clock.ts";
import { type FakeOpenWeather, startFakeOpenWeather, TEST_API_KEY } from "./fake_openweather.ts";
import { fetchWithin, WAIT_MS, within } from "./wait.ts";
import type { Timers } from "../../src/process/timeout.ts";

export interface RunningService extends AsyncDisposable {
  readonly url: URL;
  readonly config: Config;
  /** Every log line written so far, raw, as it would reach stdout. */
  readonly logLines: string[];
  /**
   * Resolves with the first log entry (past or future) whose message starts
   * with `prefix`; fails after `timeoutMs`, naming the prefix.
   */
  waitForLog(prefix: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  post(path: string, body: unknown, init?: RequestInit): Promise<Response>;
  /** The value of one series on GET /metrics (`name{labels}` as written there); undefined when absent. */
  metric(series: string): Promise<number | undefined>;
  /** Shuts the server down (answering what is in flight) and closes the service. */
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
  /**
   * The clock for tests that move time (a TestClock): the service's `now`,
   * and the timers of the work it plans ahead (refreshes before expiry), so
   * both move together.
   */
  clock?: { readonly now: () => number; readonly timers: Timers };
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
  const { clock } = options;
  const service = await createService(
    config,
    logger,
    clock ? { now: clock.now, timers: clock.timers } : {},
  );
  const { handler } = service;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const url = new URL(`http://127.0.0.1:${server.addr.port}`);
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      await within(WAIT_MS, server.shutdown(), "the server to answer what is in flight and stop");
      await within(WAIT_MS, service.close(), "the service to close");
    })();
  return {
    url,
    config,
    logLines,
    waitForLog(prefix, timeoutMs = WAIT_MS) {
      const matches = (entry: Record<string, unknown>) => String(entry.msg).startsWith(prefix);
      const seen = logLines.map((line) => JSON.parse(line)).find(matches);
      if (seen) return Promise.resolve(seen);
      const { promise, resolve } = Promise.withResolvers<Record<string, unknown>>();
      const waiter = (entry: Record<string, unknown>) => matches(entry) && (resolve(entry), true);
      logWaiters.add(waiter);
      return within(
        timeoutMs,
        promise,
        () => `a log line starting with "${prefix}"; logged:\n${logLines.join("\n")}`,
      ).finally(() => logWaiters.delete(waiter));
    },
    post: (path, body, init = {}) =>
      fetchWithin(new URL(path, url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
        ...init,
      }),
    async metric(series) {
      const text = await (await fetchWithin(new URL("/metrics", url))).text();
      const line = text.split("\n").find((line) => line.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export interface ServiceWithStandIn extends AsyncDisposable {
  readonly clock: TestClock;
  readonly upstream: FakeOpenWeather;
  readonly service: RunningService;
  close(): Promise<void>;
}

/** The service on a test clock, against its own OpenWeatherMap stand-in (both endpoints). */
export async function startWithStandIn(
  variables: Record<string, string> = {},
  clock = new TestClock(),
): Promise<ServiceWithStandIn> {
  const upstream = startFakeOpenWeather();
  const service = await startService({
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
    ...variables,
  }, { clock }).catch(async (error) => {
    await upstream.close();
    throw error;
  });
  const close = async () => {
    await service.close();
    await upstream.close();
  };
  return { clock, upstream, service, close, [Symbol.asyncDispose]: close };
}
