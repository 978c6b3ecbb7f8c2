/**
 * Smoke test of a compiled binary or a container image, as the release
 * workflow runs it before publishing, and as anyone can run it locally:
 *
 *   deno run --allow-all scripts/smoke_binary.ts dist/genesys-weather-action
 *   deno run --allow-all scripts/smoke_binary.ts --image genesys-weather-action:smoke
 *
 * It starts a loopback OpenWeatherMap stand-in, then the service (binary, or
 * image on the host network), and checks: `--version` prints deno.json's
 * version, one real `POST /data-action/weather` answers the stand-in's
 * weather, `healthcheck` exits 0, and SIGTERM ends it with exit code 0.
 * Everything the service writes must be JSON log lines on stdout, and the
 * API key must appear in none of them.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { startFakeOpenWeather, TEST_API_KEY } from "../tests/support/fake_openweather.ts";
import { postWeather, runToEnd, spawnService } from "../tests/support/process.ts";

/** How to run the artifact under test: a binary on this machine, or an image. */
export type Artifact = { binary: string } | { image: string };

/** Runs a command to its end; a minute is plenty, even for `docker stop` or a cold `docker run`. */
function run(program: string, args: string[]): Promise<Deno.CommandOutput> {
  return runToEnd(program, { args }, `${program} ${args[0]}`, 60_000);
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();

/** Runs every check against `artifact`; throws (an AssertionError) on the first failure. */
export async function smokeTest(artifact: Artifact, report = (_line: string) => {}): Promise<void> {
  const container = "image" in artifact ? `gwa-smoke-${Deno.pid}` : "";
  const version = "binary" in artifact
    ? await run(artifact.binary, ["--version"])
    : await run("docker", ["run", "--rm", artifact.image, "--version"]);
  assert.equal(version.code, 0, text(version.stderr));
  assert.equal(text(version.stdout), denoJson.version);
  report(`--version: ${text(version.stdout)}`);

  const upstream = startFakeOpenWeather();
  const workdir = Deno.makeTempDirSync({ prefix: "gwa-smoke-" });
  // The key comes from .env in the working directory, so reading it is tested too.
  Deno.writeTextFileSync(`${workdir}/.env`, `OPENWEATHER_API_KEY=${TEST_API_KEY}\n`);
  const env = {
    AUTH_MODE: "none",
    HOST: "127.0.0.1",
    PORT: "0",
    OPENWEATHER_BASE_URL: upstream.url.href,
  };
  const service = "binary" in artifact
    ? spawnService(env, { cwd: workdir, command: { program: artifact.binary, args: [] } })
    : spawnService({}, {
      cwd: workdir,
      command: {
        program: "docker",
        args: [
          "run",
          "--rm",
          "--name",
          container,
          "--network",
          "host",
          ...Object.entries({ ...env, OPENWEATHER_API_KEY: TEST_API_KEY })
            .flatMap(([name, value]) => ["-e", `${name}=${value}`]),
          artifact.image,
        ],
      },
    });
  try {
    const url = await service.listening(30_000);
    report(`serving on ${url.href}`);

    const response = await postWeather(url, "London");
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.city, "London");
    assert.equal(body.country, "GB");
    report(`POST /data-action/weather: ${response.status} ${JSON.stringify(body)}`);

    const healthcheck = "binary" in artifact
      ? await runToEnd(artifact.binary, {
        args: ["healthcheck"],
        cwd: workdir,
        env: { ...env, PORT: url.port },
        clearEnv: true,
      }, "healthcheck")
      : await run("docker", [
        "exec",
        "-e",
        `PORT=${url.port}`,
        container,
        "/app/genesys-weather-action",
        "healthcheck",
      ]);
    assert.equal(healthcheck.code, 0, `healthcheck: ${text(healthcheck.stderr)}`);
    report("healthcheck: exit 0");

    if ("binary" in artifact) service.child.kill("SIGTERM");
    else await run("docker", ["stop", "--time", "15", container]);
    const { code, stderr } = await service.waitForExit(20_000);
    assert.equal(code, 0, `exit code after SIGTERM; stderr: ${stderr}`);
    assert.equal(stderr, "", "only JSON log lines, on stdout");
    assert.equal(service.lines.at(-1)?.msg, "Stopped");
    assert.ok(!JSON.stringify(service.lines).includes(TEST_API_KEY), "the API key was logged");
    report(`SIGTERM: exit 0 after ${service.lines.length} JSON log lines`);
  } finally {
    await service.stop();
    await upstream.close();
    Deno.removeSync(workdir, { recursive: true });
  }
}

if (import.meta.main) {
  const [first, second] = Deno.args;
  const artifact: Artifact | undefined = first === "--image" && second
    ? { image: second }
    : first && !first.startsWith("-")
    ? { binary: first }
    : undefined;
  if (!artifact) {
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        "Usage: scripts/smoke_binary.ts <binary> | --image <image>\n",
      ),
    );
    Deno.exit(2);
  }
  // deno-lint-ignore no-console
  await smokeTest(artifact, (line) => console.log(`ok: ${line}`));
  // deno-lint-ignore no-console
  console.log("smoke test passed");
}
