/**
 * The HTTP edge's settings: which Genesys organisations may call, which
 * proxies may say who the client is, and how many requests may be in flight.
 */

import type { VariableReader, VariableSpecs } from "../process/variables.ts";
import { parseAddressRange, PROXY_HEADERS, type ProxyHeader } from "./client_address.ts";

export const HTTP_VARIABLES = {
  GENESYS_ORG_IDS: {
    meaning:
      "Optional comma-separated Genesys organization ids; a call whose `ININ-Organization-Id` is not listed gets `403`. Defence in depth only: the header can be forged",
  },
  TRUSTED_PROXIES: {
    meaning:
      "Comma-separated addresses or CIDR ranges (`10.0.0.0/8`, `::1`) of the reverse proxies in front; only a peer listed here may name the client, in the header `TRUSTED_PROXY_HEADER` names, which the failed-login throttle counts by. Empty: the TCP peer is the client",
  },
  TRUSTED_PROXY_HEADER: {
    default: "x-forwarded-for",
    meaning:
      "The header the proxies in `TRUSTED_PROXIES` write the client's address in: `x-forwarded-for` or `forwarded` (RFC 7239). Only that one is read; the other is ignored, since a proxy passes on whatever the client put in it",
  },
  MAX_CONCURRENT_REQUESTS: {
    default: "256",
    meaning:
      "Requests handled at once, `1`–`100000`; past it the answer is `503` with `Retry-After` (`/healthz` and `/readyz` always answer), so slow clients cannot pile up memory",
  },
} as const satisfies VariableSpecs;

export interface HttpConfig {
  /** When non-empty, only these Genesys organisations (ININ-Organization-Id) may call. */
  readonly genesysOrgIds: readonly string[];
  /** Peers whose trustedProxyHeader is believed: addresses or CIDR ranges, checked. */
  readonly trustedProxies: readonly string[];
  /** The one header those peers write the client's address in. */
  readonly trustedProxyHeader: ProxyHeader;
  readonly maxConcurrentRequests: number;
}

export function readHttpConfig(vars: VariableReader<keyof typeof HTTP_VARIABLES>): HttpConfig {
  const trustedProxies = vars.list("TRUSTED_PROXIES");
  for (const entry of trustedProxies) {
    if (parseAddressRange(entry) === undefined) {
      vars.problem(
        `TRUSTED_PROXIES must list IP addresses or CIDR ranges such as "10.0.0.0/8", got "${entry}"`,
      );
    }
  }
  return {
    genesysOrgIds: vars.list("GENESYS_ORG_IDS"),
    trustedProxies,
    trustedProxyHeader: vars.oneOf("TRUSTED_PROXY_HEADER", PROXY_HEADERS),
    maxConcurrentRequests: vars.integer("MAX_CONCURRENT_REQUESTS", { min: 1, max: 100_000 }),
  };
}
