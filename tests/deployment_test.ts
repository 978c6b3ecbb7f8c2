/**
 * The three ways the service ships: `deno serve` (and so Deno Deploy), the
 * compiled binary, and the container image, tested as far as this machine
 * can run them.
 */

import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../src/config.ts";
import { smokeTest } from "../scripts/smoke_binary.ts";
import { startFakeOpenWeather, TEST_API_KEY } from "./support/fake_openweather.ts";
import { postWeather, runToEnd, spawnService, taskArguments } from "./support/process.ts";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

Deno.test("deno serve serve.ts (the Deno Deploy entry) serves the same service", async () => {
  await using upstream = startFakeOpenWeather();
  await using service = spawnService({
    OPENWEATHER_API_KEY: TEST_API_KEY,
    AUTH_MODE: "none",
    OPENWEATHER_BASE_URL: upstream.url.href,
  }, {
    command: {
      program: Deno.execPath(),
      args: taskArguments("serve", ["--host", "127.0.0.1", "--port", "0"]),
    },
  });
  const [, port] = await service.waitForStderr(/Listening on http:\/\/[^:]+:(\d+)/);
  const response = await postWeather(new URL(`http://127.0.0.1:${port}`), "London");
  assert.equal(response.status, 200);
  assert.equal((await response.json()).city, "London");
  // The same start-up as main.ts: configuration logged, open endpoint warned about.
  assert.ok(service.lines.some((line) => line.msg === "Configuration"));
  assert.ok(service.lines.some((line) => String(line.msg).startsWith('AUTH_MODE is "none"')));
});

Deno.test("main.ts healthcheck exits 0 while the service answers /healthz, else 1", async () => {
  await using upstream = startFakeOpenWeather();
  const env = { OPENWEATHER_API_KEY: TEST_API_KEY, AUTH_MODE: "none", HOST: "127.0.0.1" };
  await using service = spawnService({
    ...env,
    PORT: "0",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const healthcheck = async (port: string) => {
    const output = await runToEnd(Deno.execPath(), {
      args: [...taskArguments("start"), "healthcheck"],
      cwd: service.cwd,
      env: { ...env, PORT: port },
      stdout: "null",
      stderr: "null",
    }, "main.ts healthcheck");
    return output.code;
  };
  const url = await service.listening();
  assert.equal(await healthcheck(url.port), 0);
  service.child.kill("SIGTERM");
  await service.waitForExit();
  assert.equal(await healthcheck(url.port), 1);
});

/** Whether `deno compile` can build here: it downloads its runtime (denort) unless DENORT_BIN names one. */
async function tryCompile(): Promise<{ binary: string; dir: string } | { skipped: string }> {
  const dir = Deno.makeTempDirSync();
  const binary = `${dir}/genesys-weather-action`;
  const { tasks } = JSON.parse(read("deno.json")) as { tasks: Record<string, string> };
  const args = tasks.compile!.split(/\s+/).slice(1).map((arg) =>
    arg === "dist/genesys-weather-action" ? binary : arg
  );
  // Building takes a while where it works; where it cannot download, it fails at once.
  const output = await runToEnd(
    Deno.execPath(),
    {
      args,
      cwd: ROOT.pathname,
      env: { NO_COLOR: "1" },
    },
    "deno compile",
    120_000,
  );
  if (output.success) return { binary, dir };
  Deno.removeSync(dir, { recursive: true });
  const reason =
    new TextDecoder().decode(output.stderr).split("\n").find((line) =>
      /error|Download/i.test(line)
    ) ?? "";
  return {
    skipped: `deno compile could not build the binary here (${reason.trim()}). ` +
      "It downloads its runtime (denort) unless DENORT_BIN points to one; set DENORT_BIN to run this test.",
  };
}

const compiled = await tryCompile();
if ("skipped" in compiled) {
  // deno-lint-ignore no-console
  console.log(`SKIPPED: the compiled binary test: ${compiled.skipped}`);
}

Deno.test({
  name: "the compiled binary: --version, --help, serve, healthcheck, SIGTERM",
  ignore: "skipped" in compiled,
  async fn() {
    if (!("binary" in compiled)) return;
    try {
      const help = await runToEnd(compiled.binary, { args: ["--help"] }, "the binary's --help");
      assert.match(new TextDecoder().decode(help.stdout), /healthcheck/);
      // The same checks the release workflow runs on each Linux binary before publishing.
      await smokeTest({ binary: compiled.binary });
    } finally {
      Deno.removeSync(compiled.dir, { recursive: true });
    }
  },
});

Deno.test("the Dockerfile builds as documented: pinned, frozen, compiled, non-root, self-checking", () => {
  const dockerfile = read("Dockerfile");
  const instructions = dockerfile.split("\n").filter((line) => /^[A-Z]+ /.test(line));
  const ciDeno = read(".ci/run").match(/DENO_VERSION="([\d.]+)"/)?.[1];

  const from = instructions.filter((line) => line.startsWith("FROM "));
  assert.equal(from.length, 2, "a build stage and a runtime stage");
  assert.equal(
    from[0],
    `FROM --platform=$BUILDPLATFORM denoland/deno:${ciDeno} AS build`,
    "the build stage pins the Deno version CI uses, and runs on the builder's platform",
  );
  assert.ok(!from[1]!.includes("denoland/deno"), "the runtime stage carries the binary, not Deno");
  assert.ok(!from[1]!.includes("--platform"), "the runtime stage is the target platform's image");

  const index = (prefix: string) => instructions.findIndex((line) => line.startsWith(prefix));
  assert.ok(
    index("COPY deno.json deno.lock") < index("RUN deno install --frozen"),
    "manifests first",
  );
  assert.ok(
    index("RUN deno install --frozen") < index("COPY src"),
    "dependencies before the source",
  );
  assert.ok(index("ARG TARGETARCH") > index("RUN deno install --frozen"), "one install for all");
  assert.ok(index("RUN case") > index("COPY src"));
  assert.ok(index("RUN case") > index("ARG TARGETARCH"));
  // No RUN in the runtime stage: building it for another architecture needs no emulation.
  assert.ok(instructions.slice(index(from[1]!)).every((line) => !line.startsWith("RUN ")));

  assert.match(dockerfile, /^USER nonroot:nonroot$/m);
  assert.match(dockerfile, new RegExp(`^EXPOSE ${CONFIG_VARIABLES.PORT.default}$`, "m"));
  assert.match(dockerfile, /CMD \["\/app\/genesys-weather-action", "healthcheck"\]/);
  assert.match(dockerfile, /^ENTRYPOINT \["\/app\/genesys-weather-action"\]$/m);
  assert.match(
    dockerfile,
    /^COPY --from=build \/app\/genesys-weather-action \/app\/genesys-weather-action$/m,
  );

  // Everything copied exists, and no secret can be copied in.
  for (
    const line of instructions.filter((line) =>
      line.startsWith("COPY ") && !line.includes("--from")
    )
  ) {
    for (const source of line.split(/\s+/).slice(1, -1)) Deno.statSync(new URL(source, ROOT));
  }
  const ignored = read(".dockerignore").split("\n").map((line) => line.trim());
  for (const secret of [".env", "secrets", ".git"]) {
    assert.ok(ignored.includes(secret), `.dockerignore must list ${secret}`);
  }
});

/** Docker's TARGETARCH for each Linux target deno compile knows. */
const DOCKER_ARCH: Record<string, string> = {
  "x86_64-unknown-linux-gnu": "amd64",
  "aarch64-unknown-linux-gnu": "arm64",
};

Deno.test("the Dockerfile compiles the right binary for each image architecture", () => {
  const dockerfile = read("Dockerfile");
  const { tasks } = JSON.parse(read("deno.json")) as { tasks: Record<string, string> };
  const mapping = [
    ...dockerfile.matchAll(/^\s+(\w+)\) task=(compile:\S+) output=(\S+) ;; \\$/gm),
  ].map(([, arch, task, output]) => ({ arch: arch!, task: task!, output: output! }));
  assert.deepEqual(mapping.map(({ arch }) => arch), ["amd64", "arm64"], "the image's platforms");
  for (const { arch, task, output } of mapping) {
    const command = tasks[task];
    assert.ok(command, `deno.json has no task ${task}`);
    const target = command.match(/--target (\S+)/)?.[1] ?? "";
    assert.equal(DOCKER_ARCH[target], arch, `${task} builds ${target}, not linux/${arch}`);
    assert.equal(command.match(/--output (\S+)/)?.[1], output, `${task} writes ${output}`);
  }
  // An architecture without a task stops the build instead of shipping the wrong binary.
  assert.match(
    dockerfile,
    /^\s+\*\) echo "No compile task for TARGETARCH=\$\{TARGETARCH\}" >&2; exit 1 ;; \\$/m,
  );
  assert.match(dockerfile, /^ && deno task "\$\{task\}" \\$/m);
  assert.match(dockerfile, /^ && mv "\$\{output\}" \/app\/genesys-weather-action$/m);
});
