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
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { createOpenWeatherClient } from "./openweather.ts";
import { ACCESS_TOKEN_TYPE, createOAuthRoutes } from "./oauth/token_endpoint.ts";
import { loadSigningKey } from "./oauth/signing_key.ts";
import type { Routes } from "./routes.ts";
import { createWeatherAction } from "./weather_action.ts";
import { createLocalJWKSet } from "jose";

export interface ServiceOptions {
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  now?: () => number;
}

/** Ten failed logins a minute per address, then a pause until the minute is over. */
const FAILED_AUTH_LIMIT = { maxFailures: 10, windowMs: 60_000 };

export interface Service {
  handler: Handler;
}

export async function createService(
  config: Config,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Service> {
  const now = options.now ?? Date.now;
  const weather = createOpenWeatherClient(config.openWeather);
  const { authenticator, routes } = await createAuthentication(config, logger, now);
  const handler = createHandler({
    weatherAction: createWeatherAction({ weather }),
    authenticator,
    genesysOrgIds: config.genesysOrgIds,
    extraRoutes: routes,
    logger,
  });
  return { handler };
}

async function createAuthentication(
  config: Config,
  logger: Logger,
  now: () => number,
): Promise<{ authenticator: Authenticator; routes: Routes }> {
  const { auth } = config;
  const throttle = createFailureThrottle({ ...FAILED_AUTH_LIMIT, now });
  if (auth.mode === "none") return { authenticator: openAccess, routes: {} };
  if (auth.mode === "basic") {
    return { authenticator: createBasicAuthenticator({ ...auth, throttle }), routes: {} };
  }

  const trusted: TokenIssuerTrust[] = [];
  let routes: Routes = {};
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
    trusted.push({ issuer: auth.external.issuer, getKey: keySet.getKey });
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
  });
  return { authenticator, routes };
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
