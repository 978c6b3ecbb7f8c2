/**
 * `deno task docs`: regenerates what is derived from the declarations: the
 * docs tables (the contract in docs/contract.md, the configuration in
 * docs/configuration.md, the permissions' variables in docs/deployment.md),
 * and the environment variables deno.json's permission set grants.
 */

import { GENERATED_FILES, grantedEnvironment, withGeneratedTables } from "../tools/docs_tables.ts";

function rewrite(path: URL, update: (text: string) => string): void {
  const text = Deno.readTextFileSync(path);
  const updated = update(text);
  if (updated !== text) Deno.writeTextFileSync(path, updated);
}

for (const file of GENERATED_FILES) {
  rewrite(new URL(`../${file}`, import.meta.url), (text) => withGeneratedTables(file, text));
}
rewrite(new URL("../deno.json", import.meta.url), (text) => {
  const config = JSON.parse(text);
  config.permissions.default.env = grantedEnvironment();
  return JSON.stringify(config, null, 2) + "\n";
});
