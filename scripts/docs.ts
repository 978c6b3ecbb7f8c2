/**
 * `deno task docs`: regenerates what is derived from the declarations: the
 * contract, configuration and permissions blocks of README.md, and the
 * environment variables deno.json's permission set grants.
 */

import { grantedEnvironment, withGeneratedTables } from "../tools/docs_tables.ts";

function rewrite(path: URL, update: (text: string) => string): void {
  const text = Deno.readTextFileSync(path);
  const updated = update(text);
  if (updated !== text) Deno.writeTextFileSync(path, updated);
}

rewrite(new URL("../README.md", import.meta.url), withGeneratedTables);
rewrite(new URL("../deno.json", import.meta.url), (text) => {
  const config = JSON.parse(text);
  config.permissions.default.env = grantedEnvironment();
  return JSON.stringify(config, null, 2) + "\n";
});
