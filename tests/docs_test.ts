import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../src/config.ts";
import { UNDICI_ENV_READS } from "../src/weather/openweather.ts";
import { withGeneratedTables } from "../src/readme_tables.ts";

const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

Deno.test("README.md tables match src/weather/contract.ts and src/config.ts (run `deno task docs`)", () => {
  assert.equal(readme, withGeneratedTables(readme));
});

const { tasks } = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))) as {
  tasks: Record<string, string>;
};
/** Every task that runs the service: start, dev, serve, and each compile target. */
const serviceTasks = Object.keys(tasks).filter((name) =>
  /^(start|dev|serve|compile(:.*)?)$/.test(name)
);
const permissionsOf = (task: string) => tasks[task]!.match(/--(?:allow|v8)-\S+/g) ?? [];

Deno.test("every way of running the service has the same permissions and V8 flags", () => {
  assert.ok(serviceTasks.length >= 6, serviceTasks.join(", "));
  for (const task of serviceTasks) {
    assert.deepEqual(permissionsOf(task), permissionsOf("start"), task);
    assert.ok(!/\s-A\b|--allow-all/.test(tasks[task]!), `${task} must not grant everything`);
    // The lock file is the dependency set that was reviewed; nothing resolves anew at start.
    assert.match(tasks[task]!, /\s--frozen\b/, `${task} must run with --frozen`);
  }
  assert.deepEqual(permissionsOf("start").map((flag) => flag.split("=")[0]), [
    "--v8-flags",
    "--allow-net",
    "--allow-env",
    "--allow-read",
  ]);
});

Deno.test("deno task start grants exactly the variables the service and undici read", () => {
  for (const task of ["start"]) {
    const granted = String(tasks[task]).match(/--allow-env=(\S+)/)?.[1]?.split(",") ?? [];
    assert.deepEqual(
      granted.sort(),
      [...Object.keys(CONFIG_VARIABLES), ...UNDICI_ENV_READS].sort(),
      task,
    );
  }
});
