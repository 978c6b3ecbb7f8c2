/** `deno task export-actions`: writes the Genesys artifacts under genesys/ from src/weather/contract.ts. */

import { exportedFiles } from "../src/genesys/export.ts";

const root = new URL("../", import.meta.url);
for (const [path, content] of Object.entries(exportedFiles())) {
  const url = new URL(path, root);
  Deno.mkdirSync(new URL(".", url), { recursive: true });
  Deno.writeTextFileSync(url, content);
}
