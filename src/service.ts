/**
 * Wires the real parts together from a Config: the one composition root that
 * `main.ts` (a process, a binary, a container) and the `deno serve` entry share.
 */

import { createAuthentication } from "./auth/mod.ts";
import { createFailureThrottle } from "./auth/failure_throttle.ts";
import { type Config, secretValues } from "./config.ts";
import { createHandler, type Handler } from "./http/handler.ts";
import { createBuiltInIssuer } from "./oauth/mod.ts";
import type { Logger } from "./process/log.ts";
import { createMetrics } from "./process/metrics.ts";
import { REDACTED } from "./process/redact.ts";
import { createWeather } from "./weather/mod.ts";

export interface ServiceOptions {
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  now?: () => number;
}

/** Ten failed logins a minute per address, then a pause until the minute is over. */
const FAILED_AUTH_LIMIT = { maxFailures: 10, windowMs: 60_000 };

export interface Service {
  handler: Handler;
  /** Closes outbound connection pools; call after the server has drained. */
  close(): Promise<void>;
}

export async function createService(
  config: Config,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Service> {
  const now = options.now ?? Date.now;
  const metrics = createMetrics();
  const weather = createWeather(config, { now, logger, metrics });
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
      now,
      logger,
    })
    : undefined;
  const { authenticator, notReadyReasons } = createAuthentication(
    auth,
    { throttle, now, logger, metrics },
    builtInIssuer ? [builtInIssuer.trust] : [],
  );
  const handler = createHandler({
    weatherAction: weather.action,
    authenticator,
    genesysOrgIds: config.genesysOrgIds,
    extraRoutes: builtInIssuer?.routes ?? {},
    deadlineMs: config.requestDeadlineMs,
    notReadyReasons,
    metrics,
    logger,
  });
  return {
    handler,
    close: async () => {
      await weather.close();
      await builtInIssuer?.close();
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
    if (value instanceof URL) return value.href;
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
}
