/**
 * `deno task export-actions`: writes the Genesys artifacts under genesys/ from tools/contract_schema.ts.
 *
 *   deno task export-actions [--scope SCOPE] [--audience AUDIENCE]
 *
 * With --scope or --audience (for an identity provider's token endpoint), it
 * writes nothing and prints the custom auth action with those parameters in
 * its token request: the only definition they change. The committed genesys/
 * keeps the defaults, which the service's own /oauth/token needs.
 */

import { parseArgs } from "node:util";
import { customAuthAction, type TokenRequestOptions } from "../tools/genesys/actions.ts";
import { exportedFiles } from "../tools/genesys/export.ts";

function tokenRequestOptions(args: string[]): TokenRequestOptions {
  const { values } = parseArgs({
    args,
    options: { scope: { type: "string" }, audience: { type: "string" } },
  });
  return {
    ...(values.scope ? { scope: values.scope } : {}),
    ...(values.audience ? { audience: values.audience } : {}),
  };
}

function writeAll(): void {
  const root = new URL("../", import.meta.url);
  for (const [path, content] of Object.entries(exportedFiles())) {
    const url = new URL(path, root);
    Deno.mkdirSync(new URL(".", url), { recursive: true });
    Deno.writeTextFileSync(url, content);
  }
}

const options = tokenRequestOptions(Deno.args);
if (Object.keys(options).length > 0) {
  const text = JSON.stringify(customAuthAction(options), null, 2) + "\n";
  Deno.stdout.writeSync(new TextEncoder().encode(text));
} else {
  writeAll();
}
