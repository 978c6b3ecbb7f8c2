/**
 * Wires the real parts together from a Config: the one composition root that
 * `main.ts` (a process, a binary, a container) and the `deno serve` entry share.
 */

import { AUTH_METRICS } from "./auth/metrics.ts";
import { createAuthentication } from "./auth/mod.ts";
import { createFailureThrottle } from "./auth/failure_throttle.ts";
import { type Config, secretValues } from "./config.ts";
import { createClientAddressResolver } from "./http/client_address.ts";
import { createHandler, type Handler } from "./edge/handler.ts";
import { EDGE_METRICS } from "./edge/metrics.ts";
import { createBuiltInIssuer } from "./oauth/mod.ts";
import type { Logger } from "./process/log.ts";
import { createMetricsRegistry, PROCESS_METRICS, recordProcessMetrics } from "./process/metrics.ts";
import { REDACTED, redactUrl } from "./process/redact.ts";
import { RequestDeadlines, type Timers } from "./process/timeout.ts";
import { STORE_METRICS } from "./store/metrics.ts";
import { openSharedStore, type SharedStore } from "./store/shared_store.ts";
import { WEATHER_METRICS } from "./weather/metrics.ts";
import { createWeather } from "./weather/mod.ts";

export interface ServiceOptions {
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  now?: () => number;
  /** Timers for work planned ahead (refreshes before expiry); tests pass their clock's. */
  timers?: Timers;
}

/**
 * Per presented id and address: failures past the fifth in a minute are
 * answered 50 ms later each (at most a second), past the tenth with 429 until
 * the minute is over. The right credentials are always answered at once.
 */
const FAILED_AUTH_LIMIT = { maxFailures: 10, windowMs: 60_000 };

/** Every metric family /metrics exports, each domain's table, in the order it lists them. */
export const METRIC_FAMILIES = [
  EDGE_METRICS,
  WEATHER_METRICS,
  STORE_METRICS,
  AUTH_METRICS,
  PROCESS_METRICS,
] as const;

export interface Service {
  handler: Handler;
  /** Closes outbound connection pools and the shared store; call after the server has drained. */
  close(): Promise<void>;
}

export async function createService(
  config: Config,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Service> {
  const now = options.now ?? Date.now;
  const metrics = createMetricsRegistry(METRIC_FAMILIES);
  recordProcessMetrics(metrics);
  const { sharedStore } = config;
  // Loaded and connected only when configured; an unreachable store does not stop start-up.
  const store: SharedStore | undefined = sharedStore.target
    ? await openSharedStore({ ...sharedStore, target: sharedStore.target }, {
      logger,
      metrics,
      now,
    })
    : undefined;
  const weather = createWeather(config, {
    now,
    logger,
    metrics,
    shared: store ? { store, instances: sharedStore.instances } : undefined,
    outboundTraced: config.outboundTraced,
    timers: options.timers,
  });
  const { auth } = config;
  // One throttle for every way of presenting a secret: Basic and the token endpoint.
  const throttle = createFailureThrottle({ ...FAILED_AUTH_LIMIT, now });
  const builtInIssuer = auth.mode === "jwt" && auth.builtIn
    ? await createBuiltInIssuer({
      config: auth.builtIn,
      audience: auth.audiences[0]!,
      realm: auth.realm,
      algorithms: auth.algorithms,
      throttle,
      bodyDeadlineMs: config.requestDeadlineMs,
      now,
      logger,
    })
    : undefined;
  const authentication = createAuthentication(
    auth,
    { throttle, now, logger, metrics, outboundTraced: config.outboundTraced },
    builtInIssuer ? [builtInIssuer.trust] : [],
  );
  // Every request's deadline, on one timer; stopped on close.
  const deadlines = new RequestDeadlines(config.requestDeadlineMs);
  const handler = createHandler({
    weatherAction: weather.action,
    forecastAction: weather.forecastAction,
    authenticator: authentication.authenticator,
    genesysOrgIds: config.genesysOrgIds,
    extraRoutes: builtInIssuer?.routes ?? {},
    deadlines,
    clientAddress: createClientAddressResolver(config.trustedProxies, config.trustedProxyHeader),
    maxConcurrentRequests: config.maxConcurrentRequests,
    notReadyReasons: authentication.notReadyReasons,
    metrics,
    logger,
  });
  return {
    handler,
    async close() {
      deadlines.close();
      await Promise.all([weather.close(), authentication.close(), builtInIssuer?.close()]);
      await store?.close();
    },
  };
}

/**
 * The effective configuration for the start-up log: every value that
 * secretValues() names is masked wherever it appears, so the list of secrets
 * lives in one place.
 */
export function describeConfig(config: Config): Record<string, unknown> {
  const secrets = new Set(secretValues(config));
  const describe = (value: unknown): unknown => {
    if (typeof value === "string") return secrets.has(value) ? REDACTED : value;
    // A URL may carry a credential in its query (a signed key set URL): names only.
    if (value instanceof URL) return redactUrl(value);
    if (Array.isArray(value)) return value.map(describe);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, describe(item)]));
    }
    return value;
  };
  return describe(config) as Record<string, unknown>;
}

/** Says loudly, at start, anything about the configuration that an operator must not miss. */
export function logStartupWarnings(config: Config, logger: Logger): void {
  if (config.auth.mode === "none") {
    logger.warn(
      'AUTH_MODE is "none": POST /data-action/weather is open to anyone who can reach it. ' +
        "Use this only behind another layer that authenticates callers.",
    );
  }
  // A cache miss waits on two store calls in turn (the shared answer, then the
  // budget) before OpenWeatherMap is called, and a slow store that still
  // answers within its timeout is never skipped. Two of them should leave at
  // least half the deadline to OpenWeatherMap: the timeout at most a quarter.
  const { sharedStore, requestDeadlineMs } = config;
  if (sharedStore.target !== undefined && sharedStore.timeoutMs * 4 > requestDeadlineMs) {
    logger.warn(
      `SHARED_STORE_TIMEOUT_MS (${sharedStore.timeoutMs}) is more than a quarter of ` +
        `REQUEST_DEADLINE_MS (${requestDeadlineMs}): a cache miss waits on two store calls ` +
        "before OpenWeatherMap is called, so a slow store can use up the deadline. " +
        `Keep it at most ${Math.floor(requestDeadlineMs / 4)} ms.`,
    );
  }
}
