import assert from "node:assert/strict";
import { ConfigError, DEFAULT_OPENWEATHER_BASE_URL, loadConfig } from "../src/config.ts";
import { environmentWithEnvFile, readEnvFile } from "../src/env_file.ts";

const SECRET = "owm-secret-key-0123456789abcdef";
const MINIMAL = { OPENWEATHER_API_KEY: SECRET, AUTH_MODE: "none" };

function load(variables: Record<string, string>) {
  return loadConfig((name) => variables[name]);
}

function problemsOf(variables: Record<string, string>): readonly string[] {
  try {
    load(variables);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("loadConfig accepted an invalid configuration");
}

Deno.test("loadConfig() applies the documented defaults", () => {
  const config = load(MINIMAL);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.port, 8080);
  assert.equal(config.logLevel, "info");
  assert.equal(config.openWeather.baseUrl.href, DEFAULT_OPENWEATHER_BASE_URL);
  assert.equal(config.openWeather.timeoutMs, 3000);
  assert.equal(config.openWeather.apiKey, SECRET);
  assert.equal(config.auth.mode, "none");
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.openWeather));
});

Deno.test("loadConfig() reads every variable", () => {
  const config = load({
    ...MINIMAL,
    HOST: "127.0.0.1",
    PORT: "9090",
    LOG_LEVEL: "DEBUG",
    OPENWEATHER_BASE_URL: "http://127.0.0.1:1234/weather",
    OPENWEATHER_TIMEOUT_MS: "1500",
  });
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 9090);
  assert.equal(config.logLevel, "debug");
  assert.equal(config.openWeather.baseUrl.href, "http://127.0.0.1:1234/weather");
  assert.equal(config.openWeather.timeoutMs, 1500);
});

Deno.test("loadConfig() treats blank values as unset", () => {
  const config = load({ ...MINIMAL, PORT: "", LOG_LEVEL: "  " });
  assert.equal(config.port, 8080);
  assert.equal(config.logLevel, "info");
});

Deno.test("loadConfig() names each invalid variable and what it expects", async (t) => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ["missing API key", { AUTH_MODE: "none" }, /^OPENWEATHER_API_KEY is required$/],
    [
      "short API key",
      { ...MINIMAL, OPENWEATHER_API_KEY: "short" },
      /^OPENWEATHER_API_KEY must be at least 8 characters long$/,
    ],
    ["missing AUTH_MODE", { OPENWEATHER_API_KEY: SECRET }, /^AUTH_MODE must be set/],
    [
      "unknown AUTH_MODE",
      { ...MINIMAL, AUTH_MODE: "open" },
      /^AUTH_MODE must be one of "none", got "open"$/,
    ],
    [
      "non-numeric port",
      { ...MINIMAL, PORT: "http" },
      /^PORT must be a whole number from 0 to 65535, got "http"$/,
    ],
    ["port out of range", { ...MINIMAL, PORT: "70000" }, /^PORT must be a whole number/],
    [
      "negative timeout",
      { ...MINIMAL, OPENWEATHER_TIMEOUT_MS: "-5" },
      /^OPENWEATHER_TIMEOUT_MS must be a whole number from 1 to 60000/,
    ],
    [
      "zero timeout",
      { ...MINIMAL, OPENWEATHER_TIMEOUT_MS: "0" },
      /^OPENWEATHER_TIMEOUT_MS must be a whole number/,
    ],
    [
      "fractional timeout",
      { ...MINIMAL, OPENWEATHER_TIMEOUT_MS: "1.5" },
      /^OPENWEATHER_TIMEOUT_MS must be a whole number/,
    ],
    [
      "non-URL base URL",
      { ...MINIMAL, OPENWEATHER_BASE_URL: "api.openweathermap.org" },
      /^OPENWEATHER_BASE_URL must be an http or https URL/,
    ],
    [
      "non-HTTP base URL",
      { ...MINIMAL, OPENWEATHER_BASE_URL: "file:///etc/passwd" },
      /^OPENWEATHER_BASE_URL must be an http or https URL/,
    ],
    [
      "base URL with credentials",
      { ...MINIMAL, OPENWEATHER_BASE_URL: "https://u:p@example.com/" },
      /^OPENWEATHER_BASE_URL must not contain credentials$/,
    ],
    [
      "unknown log level",
      { ...MINIMAL, LOG_LEVEL: "verbose" },
      /^LOG_LEVEL must be one of "debug", "info", "warn", "error", got "verbose"$/,
    ],
  ]; // deno-fmt-ignore
  for (const [name, variables, expected] of cases) {
    await t.step(name, () => {
      const problems = problemsOf(variables);
      assert.equal(problems.length, 1, problems.join("; "));
      assert.match(problems[0]!, expected);
    });
  }

  await t.step("all problems at once, and never the secret's value", () => {
    const error = (() => {
      try {
        load({ OPENWEATHER_API_KEY: "tiny", PORT: "x", LOG_LEVEL: "loud" });
      } catch (error) {
        return error as ConfigError;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 4);
    assert.ok(!error.message.includes("tiny"));
  });
});

Deno.test("environmentWithEnvFile() reads .env beneath the real environment", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/.env`;
    Deno.writeTextFileSync(
      path,
      '# comment\nGWA_TEST_FROM_FILE=file\nGWA_TEST_BOTH=file\nGWA_TEST_QUOTED="a b # c"\n',
    );
    Deno.env.set("GWA_TEST_BOTH", "real");
    const read = environmentWithEnvFile(path);
    assert.equal(read("GWA_TEST_FROM_FILE"), "file");
    assert.equal(read("GWA_TEST_BOTH"), "real");
    assert.equal(read("GWA_TEST_QUOTED"), "a b # c");
    assert.equal(read("GWA_TEST_NOWHERE"), undefined);
    // Reading the file must not have written it into the environment.
    assert.equal(Deno.env.get("GWA_TEST_FROM_FILE"), undefined);
  } finally {
    Deno.env.delete("GWA_TEST_BOTH");
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readEnvFile() treats a missing file as empty", () => {
  assert.deepEqual(readEnvFile(`${Deno.makeTempDirSync()}/absent.env`), {});
});
