/** Authentication's metric families: token checks, and the identity provider's key set. */

import type { FamilyTable } from "../process/metrics.ts";
import type { TokenVerification } from "./bearer.ts";

export const AUTH_METRICS = {
  tokenVerifications: {
    name: "auth_token_verifications_total",
    help:
      "Bearer token checks by result (hit: from the verification cache, miss: verified, rejected)",
    type: "counter",
    labels: ["result"],
    known: { result: ["hit", "miss", "rejected"] satisfies readonly TokenVerification[] },
  },
  keySetUsable: {
    name: "auth_key_set_usable",
    // Read only where there is a key set (AUTH_JWKS_URL): elsewhere no series, not a misleading 0.
    help: "1 while the identity provider's key set (AUTH_JWKS_URL) has usable keys, else 0",
    type: "gauge",
    labels: [],
  },
} as const satisfies FamilyTable;
