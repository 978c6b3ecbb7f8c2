/**
 * serve.ts as Deno Deploy and `deno serve` start it, on the Deno named by
 * DENO_BIN (default: the Deno running the tests). `.ci/run` runs this file
 * again with the oldest supported Deno (2.5.0, what Deploy's runtime page
 * documents): the service must start, answer and stop on every version Deploy
 * may run.
 *
 * The two start modes:
 *   deno serve   `deno serve` with the serve task's permissions
 *   Deploy       `DENO_AUTO_SERVE=1 deno run -A serve.ts` with DENO_DEPLOY=true:
 *                Deploy runs an entry's default export through DENO_AUTO_SERVE,
 *                with every permission and no flags
 */

import assert from "node:assert/strict";
import { startFakeOpenWeather, TEST_API_KEY } from "./support/fake_openweather.ts";
import { firstStepAfter } from "./support/forecast_fixture.ts";
import {
  postWeather,
  type ServiceProcess,
  spawnService,
  taskArguments,
} from "./support/process.ts";
import { freePort } from "./support/free_port.ts";
import { fetchWithin } from "./support/wait.ts";

const DENO = Deno.env.get("DENO_BIN") ?? Deno.execPath();
const SERVE_TS = new URL("../serve.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
/** Deploy sends SIGINT, then SIGKILL 5 s later. */
const DEPLOY_KILL_AFTER_MS = 5_000;

const version = new TextDecoder().decode(
  new Deno.Command(DENO, { args: ["--version"], stdout: "piped" }).outputSync().stdout,
).split("\n")[0]!;

/** Lets an old Deno that must fetch npm packages trust this machine's CA store. */
const TLS_SETTINGS = Object.fromEntries(
  ["DENO_TLS_CA_STORE", "DENO_CERT"].flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value]];
  }),
);

const MODES = {
  "deno serve": (env: Record<string, string>) =>
    spawnService({ ...TLS_SETTINGS, ...env }, {
      command: {
        program: DENO,
        args: taskArguments("serve", ["--host", "127.0.0.1", "--port", "0"]),
      },
    }),
  Deploy: (env: Record<string, string>) =>
    spawnService(
      {
        ...TLS_SETTINGS,
        DENO_AUTO_SERVE: "1",
        DENO_SERVE_ADDRESS: "tcp:127.0.0.1:0",
        DENO_DEPLOY: "true",
        ...env,
      },
      { command: { program: DENO, args: ["run", "-A", "--config", CONFIG, SERVE_TS] } },
    ),
};

async function listening(service: ServiceProcess): Promise<URL> {
  // An old Deno may first fetch its npm packages.
  const [, port] = await service.waitForStderr(/Listening on http:\/\/[^:]+:(\d+)/, 20_000);
  return new URL(`http://127.0.0.1:${port}`);
}

for (const [mode, start] of Object.entries(MODES)) {
  Deno.test(`serve.ts (${mode}, ${version}) answers a weather request and drains on SIGINT`, async (t) => {
    await using upstream = startFakeOpenWeather(TEST_API_KEY, {
      forecastStartS: firstStepAfter(Date.now()),
    });
    await using service = start({
      OPENWEATHER_API_KEY: TEST_API_KEY,
      AUTH_MODE: "none",
      OPENWEATHER_BASE_URL: upstream.url.href,
      OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
    });
    const url = await listening(service);

    await t.step("POST /data-action/weather answers from the upstream", async () => {
      const response = await postWeather(url, "London");
      assert.equal(response.status, 200);
      assert.equal((await response.json()).city, "London");
    });

    // The forecast's summary needs Intl.NumberFormat#formatRange and Intl.RelativeTimeFormat.
    await t.step("POST /data-action/forecast answers from the upstream", async () => {
      const response = await fetchWithin(new URL("/data-action/forecast", url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ city_name: "New York" }),
      });
      assert.equal(response.status, 200);
      const answer = await response.json();
      assert.equal(answer.city, "New York");
      assert.match(answer.summary, /^New York: .+; tomorrow: .+ degrees Celsius\.$/);
    });

    await t.step("SIGINT lets the request in flight finish, then exits 0", async () => {
      const release = upstream.hold();
      const inFlight = postWeather(url, "São Paulo");
      await upstream.waitForRequests(3);
      const signalled = performance.now();
      service.child.kill("SIGINT");
      const shuttingDown = await service.waitForLine(
        (line) => line.msg === "Shutting down",
        "the Shutting down line",
      );
      assert.equal(shuttingDown.in_flight, 1);
      release();
      const response = await inFlight;
      assert.equal(response.status, 200);
      assert.equal((await response.json()).city, "São Paulo");
      const { code, stderr } = await service.waitForExit();
      assert.ok(performance.now() - signalled < DEPLOY_KILL_AFTER_MS);
      assert.equal(code, 0, stderr);
      assert.equal(service.lines.at(-1)!.msg, "Stopped");
      assert.doesNotMatch(stderr, /error/i);
    });

    await t.step("the API key appeared in no log line", () => {
      assert.ok(!JSON.stringify(service.lines).includes(TEST_API_KEY));
    });
  });
}

Deno.test(`serve.ts (Deploy, ${version}) answers within Deploy's 5 s even when the upstream never does`, async () => {
  await using upstream = startFakeOpenWeather();
  upstream.hold();
  // Deploy's defaults: SHUTDOWN_GRACE_MS 4000, REQUEST_DEADLINE_MS 3500, upstream timeout 3000.
  await using service = MODES.Deploy({
    OPENWEATHER_API_KEY: TEST_API_KEY,
    AUTH_MODE: "none",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const url = await listening(service);
  const configuration = service.lines.find((line) => line.msg === "Configuration")!;
  assert.equal(configuration.shutdownGraceMs, 4000);
  assert.equal(configuration.requestDeadlineMs, 3500);
  const inFlight = postWeather(url, "London");
  await upstream.waitForRequests(1);
  const signalled = performance.now();
  service.child.kill("SIGINT");
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal((await response.json()).error_code, "UPSTREAM_TIMEOUT");
  const { code } = await service.waitForExit();
  const stoppedAfterMs = performance.now() - signalled;
  assert.equal(code, 0);
  assert.ok(stoppedAfterMs < 4_500, `stopped ${Math.round(stoppedAfterMs)} ms after SIGINT`);
});

for (const [mode, start] of Object.entries(MODES)) {
  Deno.test(`serve.ts (${mode}, ${version}) with a bad configuration logs it once and exits 1`, async () => {
    await using service = start({ AUTH_MODE: "none", OPENWEATHER_TIMEOUT_MS: "soon" });
    const { code, stderr } = await service.waitForExit(20_000);
    assert.equal(code, 1);
    assert.equal(service.lines.length, 1, JSON.stringify(service.lines));
    const [line] = service.lines;
    assert.equal(line!.level, "error");
    assert.deepEqual(line!.problems, [
      "OPENWEATHER_API_KEY is required (or OPENWEATHER_API_KEY_FILE)",
      'OPENWEATHER_TIMEOUT_MS must be a whole number from 1 to 60000, got "soon"',
    ]);
    assert.doesNotMatch(stderr, /OPENWEATHER/, "the problem is reported once, on stdout");
  });
}

Deno.test(`deno task serve --port N serve.ts (${version}) listens on N`, async () => {
  const port = freePort();
  const service = spawnService(
    { ...TLS_SETTINGS, OPENWEATHER_API_KEY: TEST_API_KEY, AUTH_MODE: "none" },
    {
      cwd: new URL("..", import.meta.url).pathname,
      command: {
        program: DENO,
        args: ["task", "serve", "--host", "127.0.0.1", "--port", String(port), "serve.ts"],
      },
    },
  );
  try {
    const [, listening] = await service.waitForStderr(/Listening on http:\/\/[^:]+:(\d+)/, 20_000);
    assert.equal(Number(listening), port);
    const response = await fetchWithin(`http://127.0.0.1:${port}/healthz`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  } finally {
    // `deno task` forwards SIGINT to deno serve; SIGKILL would orphan it.
    service.child.kill("SIGINT");
    assert.equal((await service.waitForExit()).code, 0);
  }
});
