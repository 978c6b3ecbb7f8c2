/**
 * Every Genesys artifact, generated from the service's contract: importable
 * Data Action definitions (one per action, kind of place and credential
 * type), the custom auth action for User Defined (OAuth), the Terraform module and its
 * example, and the error response schema. `deno task export-actions` writes
 * them under genesys/; a test fails when the committed files differ from what
 * this produces, or when genesys/ holds a file it no longer produces.
 */

import {
  actionFileName,
  ACTIONS,
  type ActionsByKind,
  actionsFor,
  CREDENTIAL_TYPES,
  type CredentialType,
  customAuthAction,
  errorResponseSchema,
  fieldsInNoAction,
  inputSchema,
  PLACE_KINDS,
  successSchema,
} from "./actions.ts";
import { genesysContractProblems } from "./rules.ts";
import { terraformFiles } from "./terraform.ts";

export const EXPORT_DIR = "genesys";

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

function assertGenesysRules(): void {
  const problems = ACTIONS.flatMap((action) =>
    PLACE_KINDS.flatMap((kind) =>
      genesysContractProblems(inputSchema(action, kind), successSchema(action)).map((problem) =>
        `${action} by ${kind}: ${problem}`
      )
    )
  );
  for (const field of fieldsInNoAction()) {
    problems.push(`Request field "${field}" is in no action: add it to LOCATION_KINDS`);
  }
  if (problems.length > 0) {
    throw new Error(`The contract breaks Genesys rules: ${problems.join("; ")}`);
  }
}

/** Every generated file, by path under the repository root, as it is committed. */
export function exportedFiles(): Record<string, string> {
  assertGenesysRules();
  const actions: Record<CredentialType, ActionsByKind> = {
    "basic-auth": actionsFor("basic-auth"),
    "user-defined-oauth": actionsFor("user-defined-oauth"),
  };
  const customAuth = customAuthAction();
  const files: Record<string, unknown> = {};
  for (const action of ACTIONS) {
    for (const credentialType of CREDENTIAL_TYPES) {
      for (const kind of PLACE_KINDS) {
        files[`${EXPORT_DIR}/actions/${actionFileName(action, kind, credentialType)}`] =
          actions[credentialType][action][kind];
      }
    }
  }
  files[`${EXPORT_DIR}/actions/custom-auth-action.json`] = customAuth;
  files[`${EXPORT_DIR}/schemas/error-response.schema.json`] = errorResponseSchema();
  const oauthActions = actions["user-defined-oauth"];
  const basicActions = actions["basic-auth"];
  Object.assign(files, terraformFiles({ oauthActions, basicActions, customAuth }));
  return Object.fromEntries(Object.entries(files).map(([path, value]) => [path, json(value)]));
}
