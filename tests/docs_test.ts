import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../src/config.ts";
import { UNDICI_ENV_READS } from "../src/openweather.ts";
import { withGeneratedTables } from "../src/readme_tables.ts";

const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

Deno.test("README.md tables match src/contract.ts and src/config.ts (run `deno task docs`)", () => {
  assert.equal(readme, withGeneratedTables(readme));
});

Deno.test("deno task start and dev grant exactly the variables the service and undici read", () => {
  const { tasks } = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  for (const task of ["start", "dev"]) {
    const granted = String(tasks[task]).match(/--allow-env=(\S+)/)?.[1]?.split(",") ?? [];
    assert.deepEqual(
      granted.sort(),
      [...Object.keys(CONFIG_VARIABLES), ...UNDICI_ENV_READS].sort(),
      task,
    );
  }
});
