import assert from "node:assert/strict";
import { startFakeOpenWeather, TEST_API_KEY } from "./support/fake_openweather.ts";
import { postWeather, spawnService } from "./support/process.ts";
import { tempDir } from "./support/temp_dir.ts";

Deno.test("main.ts exits non-zero, naming the variable, without OPENWEATHER_API_KEY", async () => {
  await using service = spawnService({ AUTH_MODE: "none" });
  const { code, stderr } = await service.waitForExit();
  assert.equal(code, 1);
  assert.equal(stderr, "");
  assert.equal(service.lines.length, 1);
  assert.equal(service.lines[0]!.level, "error");
  assert.match(String(service.lines[0]!.msg), /OPENWEATHER_API_KEY is required/);
});

Deno.test("main.ts never runs open by accident: AUTH_MODE defaults to jwt, which needs keys", async () => {
  await using service = spawnService({ OPENWEATHER_API_KEY: TEST_API_KEY });
  const { code } = await service.waitForExit();
  assert.equal(code, 1);
  assert.match(
    String(service.lines[0]!.msg),
    /AUTH_MODE "jwt" \(the default\) needs keys: set AUTH_JWKS_URL/,
  );
});

Deno.test("main.ts reports every invalid value at once and exits 1", async () => {
  await using service = spawnService({
    OPENWEATHER_API_KEY: TEST_API_KEY,
    AUTH_MODE: "none",
    PORT: "eighty",
    OPENWEATHER_BASE_URL: "nope",
  });
  assert.equal((await service.waitForExit()).code, 1);
  assert.deepEqual(service.lines[0]!.problems, [
    'PORT must be a whole number from 0 to 65535, got "eighty"',
    'OPENWEATHER_BASE_URL must be an http or https URL, got "nope"',
  ]);
});

Deno.test("main.ts serves with .env beneath the environment, and shuts down cleanly on SIGTERM", async (t) => {
  await using upstream = startFakeOpenWeather();
  using workdir = tempDir();
  // The key and mode come from .env; the real environment overrides its base URL.
  Deno.writeTextFileSync(
    `${workdir.path}/.env`,
    `OPENWEATHER_API_KEY=${TEST_API_KEY}\nAUTH_MODE=none\nOPENWEATHER_BASE_URL=http://127.0.0.1:9/wrong\n`,
  );
  await using service = spawnService({
    HOST: "127.0.0.1",
    PORT: "0",
    OPENWEATHER_BASE_URL: upstream.url.href,
  }, { cwd: workdir.path });
  const url = await service.listening();

  await t.step("it says loudly that the endpoint is open", () => {
    const warning = service.lines.find((line) => line.level === "warn");
    assert.match(
      String(warning?.msg),
      /AUTH_MODE is "none": POST \/data-action\/weather is open/,
    );
  });

  await t.step("it answers with weather fetched using the key from .env", async () => {
    const response = await postWeather(url, "London");
    assert.equal(response.status, 200);
    assert.equal((await response.json()).city, "London");
  });

  await t.step("SIGTERM lets the request in flight finish, then exits 0", async () => {
    const release = upstream.hold();
    // Another city than before: London is cached now and would not reach the upstream.
    const inFlight = postWeather(url, "São Paulo");
    // Wait until the upstream has the request, so it is truly in flight.
    await upstream.waitForRequests(2);
    service.child.kill("SIGTERM");
    await service.waitForLine((line) => line.msg === "Shutting down", "the Shutting down line");
    release();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal((await response.json()).temperature, 11.05);
    const { code, stderr } = await service.waitForExit();
    assert.equal(code, 0);
    assert.equal(stderr, "", "only the logger writes, and only to stdout");
    assert.equal(service.lines.at(-1)!.msg, "Stopped");
  });

  await t.step("the API key appeared in no log line", () => {
    assert.ok(!JSON.stringify(service.lines).includes(TEST_API_KEY));
  });
});

Deno.test("main.ts may read only .env and ./secrets/: a key file elsewhere stops start-up", async () => {
  using elsewhere = tempDir();
  const outside = `${elsewhere.path}/signing.pem`;
  Deno.writeTextFileSync(outside, "");
  await using service = spawnService({
    OPENWEATHER_API_KEY: TEST_API_KEY,
    OAUTH_CLIENT_ID: "genesys",
    OAUTH_CLIENT_SECRET: "sixteen-chars-or-more",
    PUBLIC_URL: "https://weather.example.test",
    OAUTH_SIGNING_KEY_FILE: outside,
    PORT: "0",
  });
  const { code, stderr } = await service.waitForExit();
  assert.equal(code, 1);
  assert.equal(stderr, "");
  const error = service.lines.find((line) => line.level === "error");
  assert.match(String(error?.msg), /OAUTH_SIGNING_KEY_FILE ".*" cannot be read \(NotCapable\)/);
});
