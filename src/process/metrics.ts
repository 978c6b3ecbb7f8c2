/**
 * Prometheus metrics (prom-client), one registry per service instance so
 * tests stay independent. Labels are bounded sets (route names, status codes,
 * outcome codes), never caller-supplied text.
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";

export type CacheResult = "hit" | "miss" | "stale";
export type TokenVerification = "hit" | "miss" | "rejected";

export interface Metrics {
  readonly registry: Registry;
  request(route: string, method: string, status: number, seconds: number): void;
  /** One per upstream call made, or avoided by the quota guard ("throttled"). */
  upstreamCall(outcome: string): void;
  weatherCache(result: CacheResult): void;
  tokenVerification(result: TokenVerification): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer, by route",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const upstream = new Counter({
    name: "openweather_calls_total",
    help:
      'OpenWeatherMap calls by outcome ("ok", an error_code, or "throttled" when the guard avoided the call)',
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const cache = new Counter({
    name: "weather_cache_lookups_total",
    help: "Weather cache lookups by result (hit, miss, stale)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: "auth_token_verifications_total",
    help:
      "Bearer token checks by result (hit: from the verification cache, miss: verified, rejected)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident set size",
    registers: [registry],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  return {
    registry,
    request: (route, method, status, seconds) => {
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route }, seconds);
    },
    upstreamCall: (outcome) => upstream.inc({ outcome }),
    weatherCache: (result) => cache.inc({ result }),
    tokenVerification: (result) => tokens.inc({ result }),
  };
}
