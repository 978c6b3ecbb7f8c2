/** The HTTP edge's settings: which Genesys organisations may call. */

import type { VariableReader, VariableSpecs } from "../process/variables.ts";

export const HTTP_VARIABLES = {
  GENESYS_ORG_IDS: {
    meaning:
      "Optional comma-separated Genesys organization ids; a call whose `ININ-Organization-Id` is not listed gets `403`. Defence in depth only: the header can be forged",
  },
} as const satisfies VariableSpecs;

export interface HttpConfig {
  /** When non-empty, only these Genesys organisations (ININ-Organization-Id) may call. */
  readonly genesysOrgIds: readonly string[];
}

export function readHttpConfig(vars: VariableReader<keyof typeof HTTP_VARIABLES>): HttpConfig {
  return { genesysOrgIds: vars.list("GENESYS_ORG_IDS") };
}
