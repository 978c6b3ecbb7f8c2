/**
 * The weather domain's metric families: OpenWeatherMap calls and the budget
 * that guards them, and the cache's results.
 */

import type { FamilyTable, Recorders } from "../process/metrics.ts";
import type { CacheResult, RefreshOutcome } from "./cache.ts";
import { ACTIONS, UPSTREAM_ERROR_CODES } from "./contract.ts";

export const WEATHER_METRICS = {
  upstreamCalls: {
    name: "openweather_calls_total",
    help:
      'OpenWeatherMap calls by action and outcome ("ok", an error_code, or "throttled" when the guard avoided the call)',
    type: "counter",
    labels: ["action", "outcome"],
    known: { action: ACTIONS, outcome: ["ok", "throttled", ...UPSTREAM_ERROR_CODES] },
  },
  cacheLookups: {
    name: "weather_cache_lookups_total",
    help:
      "Cache lookups by action and result (hit: this instance's memory, shared: the shared store, miss, stale)",
    type: "counter",
    labels: ["action", "result"],
    // "shared" only happens with a shared store.
    known: { action: ACTIONS, result: ["hit", "miss", "stale"] satisfies readonly CacheResult[] },
  },
  refreshes: {
    name: "weather_refreshes_total",
    help:
      'Refreshes in the background (ahead of expiry, or a retry after a failure) by action and outcome ("ok"; "shared": another instance had refreshed it; "elsewhere": another instance or a caller is refreshing it; "throttled": the budget kept the call for callers; or an error_code)',
    type: "counter",
    labels: ["action", "outcome"],
    known: {
      action: ACTIONS,
      outcome: ["ok", "throttled", ...UPSTREAM_ERROR_CODES] satisfies readonly RefreshOutcome[],
    },
  },
  budgetSpent: {
    name: "openweather_budget_spent_total",
    help:
      'OpenWeatherMap calls the budget let through, by kind ("known": the city answered before, "unknown": a name never answered or last not found, "refresh": a refresh nobody waits for)',
    type: "counter",
    labels: ["kind"],
  },
  budgetRefused: {
    name: "openweather_budget_refused_total",
    help:
      'Calls the budget held back, by kind and reason ("limit", "unknown_share": the unknown names\' share is used up, "refresh_share": refreshes\' share is used up, "backoff")',
    type: "counter",
    labels: ["kind", "reason"],
  },
  budgetRemaining: {
    name: "openweather_call_budget_remaining",
    help: "Calls to OpenWeatherMap that OPENWEATHER_MAX_CALLS_PER_MINUTE still allows right now",
    type: "gauge",
    labels: [],
  },
} as const satisfies FamilyTable;

export type WeatherMetrics = Recorders<typeof WEATHER_METRICS>;
