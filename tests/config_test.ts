import assert from "node:assert/strict";
import { ConfigError } from "../src/config.ts";
import { environmentWithEnvFile, readEnvFile } from "../src/process/env_file.ts";
import { createLogger } from "../src/process/log.ts";
import { describeConfig, logStartupWarnings } from "../src/service.ts";
import { configProblems, loadConfigFrom } from "./support/config.ts";
import { tempDir } from "./support/temp_dir.ts";

const SECRET = "owm-secret-key-0123456789abcdef";
const MINIMAL = { OPENWEATHER_API_KEY: SECRET, AUTH_MODE: "none" };

Deno.test("loadConfig() applies the documented defaults", () => {
  const config = loadConfigFrom(MINIMAL);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.port, 8080);
  assert.equal(config.logLevel, "info");
  assert.equal(config.openWeather.baseUrl.href, "https://api.openweathermap.org/data/2.5/weather");
  assert.equal(config.openWeather.timeoutMs, 3000);
  assert.equal(config.openWeather.apiKey, SECRET);
  assert.equal(config.auth.mode, "none");
  assert.deepEqual(config.genesysOrgIds, []);
  assert.equal(config.trustedProxyHeader, "x-forwarded-for");
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.openWeather));
});

Deno.test("loadConfig() on Deno Deploy fits Deploy's 5 s stop window", async (t) => {
  const DEPLOY = { ...MINIMAL, DENO_DEPLOY: "true" };
  await t.step("the grace and the deadline default lower there", () => {
    const config = loadConfigFrom(DEPLOY);
    assert.equal(config.onDenoDeploy, true);
    assert.equal(config.shutdownGraceMs, 4000);
    assert.equal(config.requestDeadlineMs, 3500);
    assert.equal(loadConfigFrom(MINIMAL).shutdownGraceMs, 10000);
    assert.equal(loadConfigFrom(MINIMAL).requestDeadlineMs, 5000);
  });
  await t.step("a grace past 4500 ms is refused", () => {
    assert.deepEqual(configProblems({ ...DEPLOY, SHUTDOWN_GRACE_MS: "10000" }), [
      'SHUTDOWN_GRACE_MS must be a whole number from 0 to 4500, got "10000"',
    ]);
  });
  await t.step("a deadline that outlasts the grace is refused", () => {
    assert.deepEqual(configProblems({ ...DEPLOY, REQUEST_DEADLINE_MS: "4000" }), [
      "On Deno Deploy REQUEST_DEADLINE_MS (4000) must be below SHUTDOWN_GRACE_MS (4000)",
    ]);
  });
});

Deno.test("loadConfig() calls OpenWeatherMap around Deno's tracing whenever Deno may trace", () => {
  assert.equal(loadConfigFrom(MINIMAL).outboundTraced, false);
  assert.equal(loadConfigFrom({ ...MINIMAL, OTEL_DENO: "false" }).outboundTraced, false);
  assert.equal(loadConfigFrom({ ...MINIMAL, OTEL_DENO: "true" }).outboundTraced, true);
  assert.equal(loadConfigFrom({ ...MINIMAL, OTEL_DENO: "1" }).outboundTraced, true);
  // Deploy traces outbound calls whatever the variables say.
  assert.equal(loadConfigFrom({ ...MINIMAL, DENO_DEPLOY: "true" }).outboundTraced, true);
});

Deno.test("loadConfig() reads every variable", () => {
  const config = loadConfigFrom({
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
  const config = loadConfigFrom({ ...MINIMAL, PORT: "", LOG_LEVEL: "  " });
  assert.equal(config.port, 8080);
  assert.equal(config.logLevel, "info");
});

Deno.test("loadConfig() names each invalid variable and what it expects", async (t) => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "missing API key",
      { AUTH_MODE: "none" },
      /^OPENWEATHER_API_KEY is required \(or OPENWEATHER_API_KEY_FILE\)$/,
    ],
    [
      "short API key",
      { ...MINIMAL, OPENWEATHER_API_KEY: "short" },
      /^OPENWEATHER_API_KEY must be at least 8 characters long$/,
    ],
    [
      "unknown AUTH_MODE",
      { ...MINIMAL, AUTH_MODE: "open" },
      /^AUTH_MODE must be one of "jwt", "basic", "none", got "open"$/,
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
      "a trusted proxy that is not an address or range",
      { ...MINIMAL, TRUSTED_PROXIES: "10.0.0.0/8, proxy.internal" },
      /^TRUSTED_PROXIES must list IP addresses or CIDR ranges such as "10.0.0.0\/8", got "proxy.internal"$/,
    ],
    [
      "a CIDR prefix too long for its family",
      { ...MINIMAL, TRUSTED_PROXIES: "192.0.2.0/33" },
      /^TRUSTED_PROXIES must list/,
    ],
    [
      "a proxy header that is neither X-Forwarded-For nor Forwarded",
      { ...MINIMAL, TRUSTED_PROXY_HEADER: "x-real-ip" },
      /^TRUSTED_PROXY_HEADER must be one of "x-forwarded-for", "forwarded", got "x-real-ip"$/,
    ],
    [
      "unknown log level",
      { ...MINIMAL, LOG_LEVEL: "verbose" },
      /^LOG_LEVEL must be one of "debug", "info", "warn", "error", got "verbose"$/,
    ],
  ];
  for (const [name, variables, expected] of cases) {
    await t.step(name, () => {
      const problems = configProblems(variables);
      assert.equal(problems.length, 1, problems.join("; "));
      assert.match(problems[0]!, expected);
    });
  }

  await t.step("all problems at once, and never the secret's value", () => {
    const error = (() => {
      try {
        loadConfigFrom({ OPENWEATHER_API_KEY: "tiny", PORT: "x", LOG_LEVEL: "loud" });
      } catch (error) {
        return error as ConfigError;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 4);
    assert.ok(!error.message.includes("tiny"));
  });
});

// The environment is given, not set: test files run in parallel in one process, and
// Deno.env.set() here would change it under every other test running at the same time.
Deno.test("environmentWithEnvFile() reads .env beneath the real environment", async () => {
  using dir = tempDir();
  const path = `${dir.path}/.env`;
  Deno.writeTextFileSync(
    path,
    '# comment\nGWA_TEST_FROM_FILE=file\nGWA_TEST_BOTH=file\nGWA_TEST_QUOTED="a b # c"\n',
  );
  const real: Record<string, string> = { GWA_TEST_BOTH: "real" };
  const read = await environmentWithEnvFile(path, (name) => real[name]);
  assert.equal(read("GWA_TEST_FROM_FILE"), "file");
  assert.equal(read("GWA_TEST_BOTH"), "real");
  assert.equal(read("GWA_TEST_QUOTED"), "a b # c");
  assert.equal(read("GWA_TEST_NOWHERE"), undefined);
  // Reading the file must not have written it into the environment.
  assert.deepEqual(real, { GWA_TEST_BOTH: "real" });
  assert.equal(Deno.env.get("GWA_TEST_FROM_FILE"), undefined);
  // By default the real environment is the process's.
  assert.equal((await environmentWithEnvFile(path))("PATH"), Deno.env.get("PATH"));
});

Deno.test("environmentWithEnvFile() reads no .env on Deno Deploy (DENO_DEPLOY=true)", async () => {
  using dir = tempDir();
  const path = `${dir.path}/.env`;
  Deno.writeTextFileSync(path, "GWA_TEST_FROM_FILE=file\n");
  const real: Record<string, string> = {};
  assert.equal(
    (await environmentWithEnvFile(path, (name) => real[name]))("GWA_TEST_FROM_FILE"),
    "file",
  );
  real.DENO_DEPLOY = "true";
  assert.equal(
    (await environmentWithEnvFile(path, (name) => real[name]))("GWA_TEST_FROM_FILE"),
    undefined,
  );
});

Deno.test("readEnvFile() parses dotenv syntax: export, quotes, escapes, comments", async () => {
  using dir = tempDir();
  const path = `${dir.path}/.env`;
  Deno.writeTextFileSync(
    path,
    "export A=1\nB='single # kept'\nC=\"two\\nlines\"\nD=bare # comment\n#E=no\nF=\n",
  );
  assert.deepEqual(await readEnvFile(path), {
    A: "1",
    B: "single # kept",
    C: "two\nlines",
    D: "bare",
    F: "",
  });
});

Deno.test("readEnvFile() treats a missing file as empty", async () => {
  using dir = tempDir();
  assert.deepEqual(await readEnvFile(`${dir.path}/absent.env`), {});
});

Deno.test("loadConfig() authentication settings", async (t) => {
  const JWKS = {
    ...MINIMAL,
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: "https://idp.example.test/jwks",
    AUTH_ISSUER: "https://idp.example.test/",
    AUTH_AUDIENCE: "api://weather",
  };
  const BUILT_IN = {
    ...MINIMAL,
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: "genesys",
    OAUTH_CLIENT_SECRET: "sixteen-chars-or-more",
    PUBLIC_URL: "https://weather.example.test/",
  };

  await t.step("AUTH_MODE defaults to jwt", () => {
    assert.match(
      configProblems({ OPENWEATHER_API_KEY: SECRET })[0]!,
      /^AUTH_MODE "jwt" \(the default\) needs keys/,
    );
  });
  await t.step("jwt with an identity provider: the documented defaults", () => {
    const { auth } = loadConfigFrom(JWKS);
    assert.equal(auth.mode, "jwt");
    if (auth.mode !== "jwt") return;
    assert.deepEqual(auth.algorithms, ["RS256"]);
    assert.deepEqual(auth.audiences, ["api://weather"]);
    assert.equal(auth.clockToleranceS, 30);
    assert.equal(auth.verificationCacheTtlS, 60);
    assert.equal(auth.external?.timeoutMs, 3000);
    assert.equal(auth.external?.cacheMaxAgeS, 600);
    assert.equal(auth.external?.staleMaxS, 86400);
    assert.equal(auth.builtIn, undefined);
  });
  await t.step("jwt with the built-in server: issuer and audience from PUBLIC_URL", () => {
    const { auth } = loadConfigFrom(BUILT_IN);
    if (auth.mode !== "jwt") return assert.fail("not jwt");
    assert.equal(auth.builtIn?.issuer, "https://weather.example.test");
    assert.deepEqual(auth.audiences, ["https://weather.example.test"]);
    assert.equal(auth.builtIn?.tokenTtlS, 3600);
    assert.deepEqual(auth.builtIn?.scopes, ["weather.read"]);
  });
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "a symmetric algorithm",
      { ...JWKS, AUTH_ALGORITHMS: "RS256,HS256" },
      /^AUTH_ALGORITHMS must list asymmetric algorithms only .*got "HS256"$/,
    ],
    [
      '"none" as an algorithm',
      { ...JWKS, AUTH_ALGORITHMS: "none" },
      /^AUTH_ALGORITHMS must list asymmetric algorithms only .*got "none"$/,
    ],
    [
      "a JWKS URL without an issuer",
      { ...JWKS, AUTH_ISSUER: "" },
      /^AUTH_ISSUER is required with AUTH_JWKS_URL/,
    ],
    [
      "a JWKS URL without an audience",
      { ...JWKS, AUTH_AUDIENCE: "" },
      /^AUTH_AUDIENCE is required with AUTH_JWKS_URL/,
    ],
    [
      "a plain-http JWKS URL",
      { ...JWKS, AUTH_JWKS_URL: "http://idp.example.test/jwks" },
      /^AUTH_JWKS_URL must be an https URL \(http is allowed only for localhost\)$/,
    ],
    [
      "a client id without PUBLIC_URL",
      { ...BUILT_IN, PUBLIC_URL: "" },
      /^PUBLIC_URL is required with OAUTH_CLIENT_ID/,
    ],
    [
      "a client id without a secret",
      { ...BUILT_IN, OAUTH_CLIENT_SECRET: "" },
      /^OAUTH_CLIENT_SECRET is required \(or OAUTH_CLIENT_SECRET_FILE\)$/,
    ],
    [
      "a short client secret",
      { ...BUILT_IN, OAUTH_CLIENT_SECRET: "short-secret" },
      /^OAUTH_CLIENT_SECRET must be at least 16 characters long$/,
    ],
    [
      "a secret without a client id",
      { ...JWKS, OAUTH_CLIENT_SECRET: "sixteen-chars-or-more" },
      /^OAUTH_CLIENT_SECRET is set but OAUTH_CLIENT_ID is not$/,
    ],
    ["both signing key settings", {
      ...BUILT_IN,
      OAUTH_SIGNING_KEY: "x",
      OAUTH_SIGNING_KEY_FILE: "y",
    }, /^Set OAUTH_SIGNING_KEY or OAUTH_SIGNING_KEY_FILE, not both$/],
    [
      "a required scope the server cannot grant",
      { ...BUILT_IN, AUTH_REQUIRED_SCOPE: "admin" },
      /^OAUTH_SCOPES must include AUTH_REQUIRED_SCOPE "admin"/,
    ],
    [
      "built-in tokens that live longer than AUTH_MAX_TOKEN_AGE_S",
      { ...BUILT_IN, OAUTH_TOKEN_TTL_S: "7200", AUTH_MAX_TOKEN_AGE_S: "3600" },
      /^OAUTH_TOKEN_TTL_S \(7200\) must not exceed AUTH_MAX_TOKEN_AGE_S \(3600\)/,
    ],
    [
      "basic without a user",
      { ...MINIMAL, AUTH_MODE: "basic", BASIC_AUTH_PASSWORD: "long-enough" },
      /^BASIC_AUTH_USER is required when AUTH_MODE is "basic"$/,
    ],
    ["basic with a short password", {
      ...MINIMAL,
      AUTH_MODE: "basic",
      BASIC_AUTH_USER: "u",
      BASIC_AUTH_PASSWORD: "short",
    }, /^BASIC_AUTH_PASSWORD must be at least 8 characters long$/],
  ];
  for (const [name, variables, expected] of cases) {
    await t.step(name, () => {
      const problems = configProblems(variables);
      assert.equal(problems.length, 1, problems.join("; "));
      assert.match(problems[0]!, expected);
    });
  }
});

Deno.test("describeConfig() masks every secret and keeps everything else", () => {
  const secrets = {
    OPENWEATHER_API_KEY: SECRET,
    OAUTH_CLIENT_SECRET: "client-secret-0123456789",
    OAUTH_SIGNING_KEY: '{"kty":"RSA","d":"private"}',
  };
  const config = loadConfigFrom({
    ...secrets,
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: "genesys",
    PUBLIC_URL: "https://weather.example.test",
    PORT: "9090",
  });
  const text = JSON.stringify(describeConfig(config));
  for (const secret of Object.values(secrets)) assert.ok(!text.includes(secret), secret);
  const described = describeConfig(config) as {
    port: number;
    openWeather: { apiKey: string; baseUrl: string };
    auth: { builtIn: { clientId: string; clientSecret: string; signingKey: string } };
  };
  assert.equal(described.port, 9090);
  assert.equal(described.openWeather.apiKey, "[REDACTED]");
  assert.equal(described.openWeather.baseUrl, "https://api.openweathermap.org/data/2.5/weather");
  assert.equal(described.auth.builtIn.clientId, "genesys");
  assert.equal(described.auth.builtIn.clientSecret, "[REDACTED]");
  assert.equal(described.auth.builtIn.signingKey, "[REDACTED]");

  const basic = describeConfig(
    loadConfigFrom({
      ...MINIMAL,
      AUTH_MODE: "basic",
      BASIC_AUTH_USER: "genesys",
      BASIC_AUTH_PASSWORD: "basic-password",
    }),
  );
  assert.deepEqual(basic.auth, {
    mode: "basic",
    realm: "genesys-weather-action",
    user: "genesys",
    password: "[REDACTED]",
  });
});

Deno.test("logStartupWarnings() warns when SHARED_STORE_TIMEOUT_MS is not well below REQUEST_DEADLINE_MS", async (t) => {
  const warnings = (variables: Record<string, string>) => {
    const lines: Record<string, unknown>[] = [];
    const config = loadConfigFrom({ ...MINIMAL, AUTH_MODE: "basic", ...variables });
    logStartupWarnings(
      config,
      createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) }),
    );
    return lines.map((line) => `${line.level} ${line.msg}`);
  };
  const STORE = {
    SHARED_STORE_URL: "redis://127.0.0.1:6379",
    BASIC_AUTH_USER: "genesys",
    BASIC_AUTH_PASSWORD: "correct horse battery",
  };
  await t.step("more than a quarter of the deadline: one warning naming both", () => {
    assert.deepEqual(
      warnings({ ...STORE, SHARED_STORE_TIMEOUT_MS: "1251", REQUEST_DEADLINE_MS: "5000" }),
      [
        "warn SHARED_STORE_TIMEOUT_MS (1251) is more than a quarter of REQUEST_DEADLINE_MS (5000): a cache miss waits on two store calls before OpenWeatherMap is called, so a slow store can use up the deadline. Keep it at most 1250 ms.",
      ],
    );
  });
  await t.step("a quarter or less, the defaults, or no store: nothing", () => {
    assert.deepEqual(
      warnings({ ...STORE, SHARED_STORE_TIMEOUT_MS: "1250", REQUEST_DEADLINE_MS: "5000" }),
      [],
    );
    assert.deepEqual(warnings(STORE), []);
    assert.deepEqual(warnings({ ...STORE, DENO_DEPLOY: "true" }), []);
    const { SHARED_STORE_URL: _, ...noStore } = STORE;
    assert.deepEqual(
      warnings({ ...noStore, SHARED_STORE_TIMEOUT_MS: "5000", REQUEST_DEADLINE_MS: "100" }),
      [],
    );
  });
});
