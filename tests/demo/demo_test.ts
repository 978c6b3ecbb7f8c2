import assert from "node:assert/strict";
import { runToEnd, taskArguments } from "../support/process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("deno task demo shows every case, runs every generated action, and exits 0 within 30 s", async () => {
  const started = performance.now();
  // Only loopback, and an environment with no key, as on a newcomer's first clone.
  const output = await runToEnd(Deno.execPath(), {
    args: taskArguments("demo"),
    cwd: ROOT,
    env: { NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
  }, "deno task demo");
  const seconds = (performance.now() - started) / 1000;
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, stdout + new TextDecoder().decode(output.stderr));
  assert.ok(seconds < 30, `the demo took ${seconds.toFixed(1)} s`);
  const row = (label: string) => {
    const line = stdout.split("\n").find((line) => line.startsWith(label));
    assert.ok(line, `no row for "${label}" in:\n${stdout}`);
    return line.split(/ {2,}/);
  };
  assert.deepEqual(row("A city").slice(1, 3), [
    "get-current-weather-by-city.user-defined-oauth",
    "Success",
  ]);
  assert.match(row("A city")[3]!, /^London: .+ degrees Celsius\.$/);
  assert.match(row("A postal code")[3]!, /^New York: /);
  assert.match(row("Coordinates")[3]!, /^Tokyo: /);
  assert.match(row("Call.Language es-us")[3]!, /^Madrid: .+ grados Celsius\.$/);
  assert.deepEqual(row("A forecast").slice(1, 3), [
    "get-weather-forecast-by-city.user-defined-oauth",
    "Success",
  ]);
  assert.match(row("A forecast")[3]!, /^New York: .*tomorrow/);
  assert.match(row("An unknown place")[3]!, /^error_code CITY_NOT_FOUND: /);
  assert.match(row("Outage")[3]!, /^London: .+\(stale: true\)$/);
  assert.match(
    row("An unusable value")[3]!,
    /^error_code INVALID_INPUT: Field "latitude" must be a number from -90 to 90$/,
  );
  const generated = [...Deno.readDirSync(`${ROOT}genesys/actions`)]
    .map((entry) => entry.name.replace(/\.json$/, ""))
    .filter((name) => name !== "custom-auth-action");
  assert.equal(generated.length, 12);
  for (const action of generated) {
    assert.match(stdout, new RegExp(` ${action.replaceAll(".", "\\.")} +Success +\\S`), action);
  }
  assert.match(
    stdout,
    /^All 20 executions as expected in [\d.]+ s, with \d+ calls to the OpenWeatherMap stand-in\.$/m,
  );
});
