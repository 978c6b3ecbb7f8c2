/** `deno task docs`: regenerates the contract tables in README.md from src/contract.ts. */

import { withContractDocs } from "../src/contract_docs.ts";

const path = new URL("../README.md", import.meta.url);
const readme = Deno.readTextFileSync(path);
const updated = withContractDocs(readme);
if (updated !== readme) Deno.writeTextFileSync(path, updated);
