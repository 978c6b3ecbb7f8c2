/**
 * Wires the real parts together from a Config: the one composition root that
 * `main.ts` (a process, a binary, a container) and the `deno serve` entry share.
 */

import { createHandler, type Handler } from "./app.ts";
import { type Authenticator, openAccess } from "./auth/authenticator.ts";
import { createBasicAuthenticator } from "./auth/basic.ts";
import { createBearerAuthenticator, type TokenIssuerTrust } from "./auth/bearer.ts";
import { createFailureThrottle } from "./auth/failure_throttle.ts";
import { createRemoteKeySet } from "./auth/remote_key_set.ts";
import { type Config, secretValues } from "./config.ts";
import type { Logger } from "./log.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createOpenWeatherClient } from "./openweather.ts";
import { REDACTED } from "./redact.ts";
import { ACCESS_TOKEN_TYPE, createOAuthRoutes } from "./oauth/token_endpoint.ts";
import { loadSigningKey } from "./oauth/signing_key.ts";
import type { Routes } from "./routes.ts";
import { createUpstreamGuard } from "./upstream_guard.ts";
import { createWeatherAction } from "./weather_action.ts";
import { createWeatherCache } from "./weather_cache.ts";
import { createLocalJWKSet } from "jose";

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

interface Authentication {
  authenticator: Authenticator;
  routes: Routes;
  notReadyReasons: () => string[];
}

const ALWAYS_READY = () => [];

export async function createService(
  config: Config,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Service> {
  const now = options.now ?? Date.now;
  const metrics = createMetrics();
  const client = createOpenWeatherClient(config.openWeather);
  const guard = createUpstreamGuard({
    maxCallsPerMinute: config.openWeather.maxCallsPerMinute,
    backoffMs: config.openWeather.backoffS * 1000,
    now,
    logger,
  });
  metrics.upstreamBudget(guard.remainingCalls);
  const weather = createWeatherCache({
    client,
    guard,
    ttlMs: config.weatherCache.ttlS * 1000,
    notFoundTtlMs: config.weatherCache.notFoundTtlS * 1000,
    staleMaxMs: config.weatherCache.staleMaxS * 1000,
    maxEntries: config.weatherCache.maxEntries,
    now,
    metrics,
  });
  const { authenticator, routes, notReadyReasons } = await createAuthentication(
    config,
    logger,
    now,
    metrics,
  );
  const handler = createHandler({
    weatherAction: createWeatherAction(weather),
    authenticator,
    genesysOrgIds: config.genesysOrgIds,
    extraRoutes: routes,
    deadlineMs: config.requestDeadlineMs,
    notReadyReasons,
    metrics,
    logger,
  });
  return { handler, close: () => client.close() };
}

async function createAuthentication(
  config: Config,
  logger: Logger,
  now: () => number,
  metrics: Metrics,
): Promise<Authentication> {
  const { auth } = config;
  const throttle = createFailureThrottle({ ...FAILED_AUTH_LIMIT, now });
  if (auth.mode === "none") {
    return { authenticator: openAccess, routes: {}, notReadyReasons: ALWAYS_READY };
  }
  if (auth.mode === "basic") {
    return {
      authenticator: createBasicAuthenticator({ ...auth, throttle, now }),
      routes: {},
      notReadyReasons: ALWAYS_READY,
    };
  }

  const trusted: TokenIssuerTrust[] = [];
  let routes: Routes = {};
  let notReadyReasons: () => string[] = ALWAYS_READY;
  if (auth.external) {
    const keySet = createRemoteKeySet({
      url: auth.external.url,
      timeoutMs: auth.external.timeoutMs,
      maxAgeMs: auth.external.cacheMaxAgeS * 1000,
      staleMaxMs: auth.external.staleMaxS * 1000,
      now,
      logger,
    });
    // Fetch now, so the first caller does not wait for it; failures are logged by the key set.
    keySet.prefetch();
    metrics.keySet(keySet.hasUsableKeys);
    trusted.push({ issuer: auth.external.issuer, getKey: keySet.getKey });
    notReadyReasons = () =>
      keySet.hasUsableKeys()
        ? []
        : ["The identity provider's key set (AUTH_JWKS_URL) is not loaded"];
  }
  if (auth.builtIn) {
    const signingKey = await loadSigningKey(auth.builtIn, auth.algorithms);
    if (signingKey.generated) {
      logger.warn(
        "No OAUTH_SIGNING_KEY or OAUTH_SIGNING_KEY_FILE: a signing key was generated for this process. " +
          "Tokens it issues stop working at restart and are not accepted by other instances",
        { kid: signingKey.publicJwk.kid },
      );
    }
    trusted.push({
      issuer: auth.builtIn.issuer,
      getKey: createLocalJWKSet({ keys: [signingKey.publicJwk] }),
      typ: ACCESS_TOKEN_TYPE,
    });
    routes = createOAuthRoutes({
      config: auth.builtIn,
      audience: auth.audiences[0]!,
      realm: auth.realm,
      signingKey,
      throttle,
      now,
    });
  }
  const authenticator = createBearerAuthenticator({
    realm: auth.realm,
    trusted,
    audiences: auth.audiences,
    algorithms: auth.algorithms,
    clockToleranceS: auth.clockToleranceS,
    requiredScope: auth.requiredScope,
    verificationCacheTtlMs: auth.verificationCacheTtlS * 1000,
    verificationCacheMaxEntries: auth.verificationCacheMaxEntries,
    now,
    logger,
    onVerification: metrics.tokenVerification,
  });
  return { authenticator, routes, notReadyReasons };
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
