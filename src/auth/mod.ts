/**
 * Authentication of the weather action's callers, by mode: `none`, `basic`,
 * or `jwt` (tokens from an identity provider's key set and, when it is on,
 * the built-in OAuth server, whose trust is handed in).
 */

import { type Authenticator, openAccess } from "./authenticator.ts";
import { createBasicAuthenticator } from "./basic.ts";
import { createBearerAuthenticator, type TokenIssuerTrust } from "./bearer.ts";
import type { AuthConfig, ExternalKeySetConfig, JwtAuthConfig } from "./config.ts";
import type { FailureThrottle } from "./failure_throttle.ts";
import { createRemoteKeySet } from "./remote_key_set.ts";
import type { Logger } from "../process/log.ts";
import type { MetricsRegistry } from "../process/metrics.ts";
import { AUTH_METRICS } from "./metrics.ts";

export type { Authenticator } from "./authenticator.ts";
export type { TokenIssuerTrust } from "./bearer.ts";

export interface AuthenticationDeps {
  throttle: FailureThrottle;
  now: () => number;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Deno may trace outbound calls: a signed key set URL must not be. */
  outboundTraced: boolean;
}

export interface Authentication {
  authenticator: Authenticator;
  /** Why callers cannot be authenticated yet; empty when ready. */
  notReadyReasons: () => string[];
  /** Closes the key set's pooled connections; for shutdown. */
  close(): Promise<void>;
}

const ALWAYS_READY = () => [];
const NOTHING_TO_CLOSE = () => Promise.resolve();

export function createAuthentication(
  auth: AuthConfig,
  deps: AuthenticationDeps,
  /** Issuers besides the identity provider, e.g. the built-in OAuth server. */
  otherIssuers: readonly TokenIssuerTrust[] = [],
): Authentication {
  switch (auth.mode) {
    case "none":
      return { authenticator: openAccess, notReadyReasons: ALWAYS_READY, close: NOTHING_TO_CLOSE };
    case "basic":
      return {
        authenticator: createBasicAuthenticator({
          ...auth,
          throttle: deps.throttle,
          now: deps.now,
        }),
        notReadyReasons: ALWAYS_READY,
        close: NOTHING_TO_CLOSE,
      };
    case "jwt":
      return createJwtAuthentication(auth, deps, otherIssuers);
  }
}

function createJwtAuthentication(
  auth: JwtAuthConfig,
  deps: AuthenticationDeps,
  otherIssuers: readonly TokenIssuerTrust[],
): Authentication {
  const identityProvider = auth.external && trustIdentityProvider(auth.external, deps);
  const { tokenVerifications } = deps.metrics.recorders(AUTH_METRICS);
  const authenticator = createBearerAuthenticator({
    realm: auth.realm,
    trusted: [...(identityProvider ? [identityProvider.trust] : []), ...otherIssuers],
    audiences: auth.audiences,
    algorithms: auth.algorithms,
    clockToleranceS: auth.clockToleranceS,
    maxTokenAgeS: auth.maxTokenAgeS,
    requiredScope: auth.requiredScope,
    verificationCacheTtlMs: auth.verificationCacheTtlS * 1000,
    verificationCacheMaxEntries: auth.verificationCacheMaxEntries,
    now: deps.now,
    logger: deps.logger,
    onVerification: (result) => tokenVerifications.inc(result),
  });
  return {
    authenticator,
    notReadyReasons: identityProvider?.notReadyReasons ?? ALWAYS_READY,
    close: identityProvider?.close ?? NOTHING_TO_CLOSE,
  };
}

function trustIdentityProvider(external: ExternalKeySetConfig, deps: AuthenticationDeps) {
  const keySet = createRemoteKeySet({
    url: external.url,
    timeoutMs: external.timeoutMs,
    maxAgeMs: external.cacheMaxAgeS * 1000,
    staleMaxMs: external.staleMaxS * 1000,
    now: deps.now,
    logger: deps.logger,
    outboundTraced: deps.outboundTraced,
  });
  // Fetch now, so the first caller does not wait for it; failures are logged by the key set.
  keySet.prefetch();
  const { keySetUsable } = deps.metrics.recorders(AUTH_METRICS);
  keySetUsable.setSource(() => keySet.hasUsableKeys() ? 1 : 0);
  return {
    trust: { issuer: external.issuer, getKey: keySet.getKey } satisfies TokenIssuerTrust,
    notReadyReasons: () =>
      keySet.hasUsableKeys()
        ? []
        : ["The identity provider's key set (AUTH_JWKS_URL) is not loaded"],
    close: () => keySet.close(),
  };
}
