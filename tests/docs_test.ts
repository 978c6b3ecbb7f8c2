import assert from "node:assert/strict";
import { loadConfig } from "../src/config.ts";
import { withContractDocs } from "../src/contract_docs.ts";

const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

Deno.test("README.md contract tables match src/contract.ts (run `deno task docs`)", () => {
  assert.equal(readme, withContractDocs(readme));
});

/** Every variable the service reads, found by letting loadConfig ask for them. */
function variablesRead(): string[] {
  const asked = new Set<string>();
  try {
    loadConfig((name) => {
      asked.add(name);
      return undefined;
    });
  } catch { /* an empty environment is invalid; the names are what matter */ }
  return [...asked];
}

Deno.test("README.md documents every configuration variable", () => {
  for (const name of variablesRead()) {
    assert.match(readme, new RegExp(`^\\| \`${name}\``, "m"), `${name} is missing from README.md`);
  }
});

Deno.test("deno task start grants exactly the variables the service reads", () => {
  const { tasks } = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  for (const task of ["start", "dev"]) {
    const granted = String(tasks[task]).match(/--allow-env=(\S+)/)?.[1]?.split(",") ?? [];
    assert.deepEqual(granted.sort(), variablesRead().sort(), task);
  }
});
