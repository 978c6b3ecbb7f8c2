/**
 * The edge's metric families: every request by route, method and status, how
 * long each took, and what each action call answered.
 */

import { REQUEST_ERRORS } from "../http/errors.ts";
import type { FamilyTable } from "../process/metrics.ts";
import { ACTIONS, UPSTREAM_ERROR_CODES } from "../weather/contract.ts";

export const EDGE_METRICS = {
  requests: {
    name: "http_requests_total",
    help: "HTTP requests answered, by route, method and status",
    type: "counter",
    labels: ["route", "method", "status"],
  },
  duration: {
    name: "http_request_duration_seconds",
    help: "Time to answer, by route",
    type: "histogram",
    labels: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  },
  answers: {
    name: "weather_answers_total",
    help:
      'Action answers (weather, forecast) by action and outcome ("ok", or the error_code the caller got)',
    type: "counter",
    labels: ["action", "outcome"],
    // Every error_code a caller can get, in a 200 (upstream) or an HTTP error.
    known: {
      action: ACTIONS,
      outcome: ["ok", ...UPSTREAM_ERROR_CODES, ...Object.keys(REQUEST_ERRORS)],
    },
  },
  slots: {
    name: "http_request_slots_in_use",
    help:
      'MAX_CONCURRENT_REQUESTS slots in use, by holder: "request" (being handled) or "late_body_read" (a body still being read after its request was answered 408)',
    type: "gauge",
    labels: ["holder"],
  },
  deadline: {
    name: "weather_request_deadline_seconds",
    help: "REQUEST_DEADLINE_MS in seconds: every action request is answered within this",
    type: "gauge",
    labels: [],
  },
} as const satisfies FamilyTable;
