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

Deno.test("README.md states the supported Deno range that CI tests", () => {
  const oldest = String(tasks["test:oldest-deno"]).match(/test_oldest_deno\.sh (\d+\.\d+\.\d+)$/)
    ?.[1];
  const ci = Deno.readTextFileSync(new URL("../.ci/run", import.meta.url))
    .match(/DENO_VERSION="(\d+)\.(\d+)\.\d+"/);
  assert.ok(oldest && ci, "deno.json test:oldest-deno and .ci/run DENO_VERSION name versions");
  assert.ok(
    readme.includes(`**Supported Deno versions: ${oldest} through ${ci[1]}.${ci[2]}.**`),
    `README.md must say "Supported Deno versions: ${oldest} through ${ci[1]}.${ci[2]}."`,
  );
  assert.ok(readme.includes(`runtime page says ${oldest}`), "the Deploy section names it too");
});
