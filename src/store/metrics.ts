/** The shared store's metric families: whether it answers, and its failed calls. */

import type { FamilyTable } from "../process/metrics.ts";

export const STORE_METRICS = {
  up: {
    name: "shared_store_up",
    help:
      "1 while the shared store (SHARED_STORE_URL) answers, 0 while the service runs without it",
    type: "gauge",
    labels: ["backend"],
  },
  errors: {
    name: "shared_store_errors_total",
    help: "Shared store calls that failed, timed out or answered garbage, by operation",
    type: "counter",
    labels: ["backend", "operation"],
  },
} as const satisfies FamilyTable;
