import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../src/config.ts";
import { UNDICI_ENV_READS } from "../src/weather/openweather.ts";
import { withGeneratedTables } from "../src/readme_tables.ts";

const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

Deno.test("README.md tables match src/weather/contract.ts and src/config.ts (run `deno task docs`)", () => {
  assert.equal(readme, withGeneratedTables(readme));
});
const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))) as {
  tasks: Record<string, string>;
  permissions: Record<string, Record<string, unknown>>;
};
const { tasks } = deno;
/** Every task that runs the service: start, dev, serve, and each compile target. */
const serviceTasks = Object.keys(tasks).filter((name) =>
  /^(start|dev|serve|compile(:.*)?)$/.test(name)
);
const permissionsOf = (task: string) =>
  tasks[task]!.match(/(?:--(?:allow|deny|v8)-\S+|-P(?:=\S+)?|--permission-set\S*|\s-A\b)/g) ?? [];

/**
 * The `_FILE` variants of the secrets, and systemd's credentials directory: granted
 * ahead of src/config.ts declaring them, so the unit file and the binary agree.
 */
const SECRET_FILE_VARIABLES = [
  "OPENWEATHER_API_KEY_FILE",
  "OAUTH_CLIENT_SECRET_FILE",
  "BASIC_AUTH_PASSWORD_FILE",
  "OAUTH_SIGNING_KEY_FILE",
  "CREDENTIALS_DIRECTORY",
];

Deno.test("every way of running the service has the same permissions and V8 flags", () => {
  assert.ok(serviceTasks.length >= 8, serviceTasks.join(", "));
  for (const task of serviceTasks) {
    assert.deepEqual(permissionsOf(task), permissionsOf("start"), task);
    assert.ok(!/\s-A\b|--allow-all|--allow-env|--allow-net/.test(tasks[task]!), task);
    // The lock file is the dependency set that was reviewed; nothing resolves anew at start.
    assert.match(tasks[task]!, /\s--frozen\b/, `${task} must run with --frozen`);
  }
  assert.deepEqual(permissionsOf("start"), [
    "--v8-flags=--max-semi-space-size=2",
    "-P",
    "--allow-read=.env,secrets,/run/secrets,/run/credentials",
  ]);
});

Deno.test("deno.json's permission set grants the network and exactly the variables the service and undici read", () => {
  assert.deepEqual(Object.keys(deno.permissions), ["default"]);
  const { net, env, ...others } = deno.permissions.default!;
  assert.equal(net, true);
  // Reads stay on the command line: paths in deno.json resolve against its own
  // directory, while .env and ./secrets/ belong to the working directory.
  assert.deepEqual(others, {});
  assert.deepEqual(
    [...(env as string[])].sort(),
    [...new Set([...Object.keys(CONFIG_VARIABLES), ...UNDICI_ENV_READS, ...SECRET_FILE_VARIABLES])]
      .sort(),
  );
});

Deno.test("README.md states the permission set once, naming every variable it grants", () => {
  const section = readme.match(/<!-- permissions -->([\s\S]*?)<!-- \/permissions -->/)?.[1] ?? "";
  assert.notEqual(section, "", "README.md needs a <!-- permissions --> section");
  for (const name of deno.permissions.default!.env as string[]) {
    assert.ok(section.includes(`\`${name}\``), `README.md's permissions must name ${name}`);
  }
  assert.ok(section.includes("--allow-read=.env,secrets,/run/secrets,/run/credentials"));
});
