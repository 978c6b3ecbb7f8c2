/**
 * Every Genesys artifact, generated from the service's contract: importable
 * Data Action definitions (one per credential type), the custom auth action
 * for User Defined (OAuth), the Terraform module and its example, and the
 * error response schema. `deno task export-actions` writes them under
 * genesys/; a test fails when the committed files differ from what this
 * produces, or when genesys/ holds a file it no longer produces.
 */

import {
  customAuthAction,
  dataAction,
  errorResponseSchema,
  inputSchema,
  successSchema,
} from "./actions.ts";
import { genesysContractProblems } from "./rules.ts";
import { terraformFiles } from "./terraform.ts";

export const EXPORT_DIR = "genesys";

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

function assertGenesysRules(): void {
  const problems = genesysContractProblems(inputSchema(), successSchema());
  if (problems.length > 0) {
    throw new Error(`The contract breaks Genesys rules: ${problems.join("; ")}`);
  }
}

/** Every generated file, by path under the repository root, as it is committed. */
export function exportedFiles(): Record<string, string> {
  assertGenesysRules();
  const oauthAction = dataAction("user-defined-oauth");
  const basicAction = dataAction("basic-auth");
  const customAuth = customAuthAction();
  const files: Record<string, unknown> = {
    [`${EXPORT_DIR}/actions/get-current-weather.basic-auth.json`]: basicAction,
    [`${EXPORT_DIR}/actions/get-current-weather.user-defined-oauth.json`]: oauthAction,
    [`${EXPORT_DIR}/actions/custom-auth-action.json`]: customAuth,
    [`${EXPORT_DIR}/schemas/error-response.schema.json`]: errorResponseSchema(),
    ...terraformFiles({ oauthAction, basicAction, customAuth }),
  };
  return Object.fromEntries(Object.entries(files).map(([path, value]) => [path, json(value)]));
}
