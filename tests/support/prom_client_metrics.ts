/**
 * The reference for tests/process/metrics_format_test.ts: the service's
 * metrics as prom-client builds them. src/process/metrics.ts writes the same
 * text by hand (prom-client costs every cold start); this keeps it honest.
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type {
  CacheResult,
  CityKind,
  KnownOutcomes,
  Metrics,
  TokenVerification,
} from "../../src/process/metrics.ts";

const CACHE_RESULTS: readonly CacheResult[] = ["hit", "miss", "stale"];
const TOKEN_VERIFICATIONS: readonly TokenVerification[] = ["hit", "miss", "rejected"];

/** `rss` stands in for the process's real resident memory, so two registries compare equal. */
export function promClientMetrics(
  known: KnownOutcomes,
  rss: () => number,
): Metrics & { registry: Registry } {
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
    help:
      "Weather cache lookups by result (hit: this instance's memory, shared: the shared store, miss, stale)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const budgetSpent = new Counter({
    name: "openweather_budget_spent_total",
    help:
      'OpenWeatherMap calls the budget let through, by kind ("known": the city answered before, "unknown": a name never answered or last not found)',
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const budgetRefused = new Counter({
    name: "openweather_budget_refused_total",
    help:
      'Calls the budget held back, by kind and reason ("limit", "unknown_share": the unknown names\' share is used up, "backoff")',
    labelNames: ["kind", "reason"] as const,
    registers: [registry],
  });
  const storeUp = new Gauge({
    name: "shared_store_up",
    help:
      "1 while the shared store (SHARED_STORE_URL) answers, 0 while the service runs without it",
    labelNames: ["backend"] as const,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: "shared_store_errors_total",
    help: "Shared store calls that failed, timed out or answered garbage, by operation",
    labelNames: ["backend", "operation"] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: "auth_token_verifications_total",
    help:
      "Bearer token checks by result (hit: from the verification cache, miss: verified, rejected)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const answers = new Counter({
    name: "weather_answers_total",
    help: 'Weather action answers by outcome ("ok", or the error_code the caller got)',
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const deadline = new Gauge({
    name: "weather_request_deadline_seconds",
    help: "REQUEST_DEADLINE_MS in seconds: every weather request is answered within this",
    registers: [registry],
  });
  // Every known label value starts at 0, so the first failure after start is an increase that
  // alerts can see (a series born at 1 has no increase), and the series exist before they occur.
  for (const outcome of ["ok", "throttled", ...known.upstream]) upstream.inc({ outcome }, 0);
  for (const outcome of ["ok", ...known.answers]) {
    answers.inc({ outcome }, 0);
  }
  for (const result of CACHE_RESULTS) cache.inc({ result }, 0);
  for (const result of TOKEN_VERIFICATIONS) tokens.inc({ result }, 0);
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident set size",
    registers: [registry],
    collect() {
      this.set(rss());
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
    budgetSpent: (kind: CityKind) => budgetSpent.inc({ kind }),
    budgetRefused: (kind, reason) => budgetRefused.inc({ kind, reason }),
    sharedStoreUp: (backend, up) => storeUp.set({ backend }, up ? 1 : 0),
    sharedStoreError: (backend, operation) => storeErrors.inc({ backend, operation }),
    tokenVerification: (result) => tokens.inc({ result }),
    weatherAnswer: (outcome) => answers.inc({ outcome }),
    requestDeadline: (seconds) => deadline.set(seconds),
    upstreamBudget: (remaining) => {
      new Gauge({
        name: "openweather_call_budget_remaining",
        help:
          "Calls to OpenWeatherMap that OPENWEATHER_MAX_CALLS_PER_MINUTE still allows right now",
        registers: [registry],
        collect() {
          this.set(remaining());
        },
      });
    },
    keySet: (usable) => {
      // Registered only when there is a remote key set, so other modes export no misleading 0.
      new Gauge({
        name: "auth_key_set_usable",
        help: "1 while the identity provider's key set (AUTH_JWKS_URL) has usable keys, else 0",
        registers: [registry],
        collect() {
          this.set(usable() ? 1 : 0);
        },
      });
    },
  };
}
