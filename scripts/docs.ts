/** `deno task docs`: regenerates the contract and configuration tables in README.md. */

import { withGeneratedTables } from "../src/readme_tables.ts";

const path = new URL("../README.md", import.meta.url);
const readme = Deno.readTextFileSync(path);
const updated = withGeneratedTables(readme);
if (updated !== readme) Deno.writeTextFileSync(path, updated);
