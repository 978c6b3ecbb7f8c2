import assert from "node:assert/strict";
import { secretValues } from "../../src/config.ts";
import { createLogger } from "../../src/process/log.ts";
import { readSecretFileSync, SecretFileError } from "../../src/process/secret_file.ts";
import { describeConfig } from "../../src/service.ts";
import { startFakeOpenWeather, TEST_API_KEY } from "../support/fake_openweather.ts";
import { postWeather, runToEnd, spawnService } from "../support/process.ts";
import { tempDir } from "../support/temp_dir.ts";
import { configProblems, loadConfigFrom } from "../support/config.ts";

const API_KEY = "file-owm-key-0123456789abcdef";
const CLIENT_SECRET = "file-client-secret-0123456789";
const PASSWORD = "file-basic-password";
const MINIMAL = { AUTH_MODE: "none", OPENWEATHER_API_KEY: API_KEY };

/**
 * loadConfig() in a process of its own under `-A`, as the service may run:
 * its problems, or that it accepted the configuration (never what it read).
 */
async function loadConfigWithAllPermissions(
  variables: Record<string, string>,
): Promise<{ problems: string[] } | { accepted: true }> {
  const config = new URL("../../src/config.ts", import.meta.url).href;
  const code = `
    import { loadConfig } from ${JSON.stringify(config)};
    const variables = JSON.parse(Deno.env.get("VARIABLES"));
    try {
      loadConfig((name) => variables[name]);
      console.log(JSON.stringify({ accepted: true }));
    } catch (error) {
      console.log(JSON.stringify({ problems: error.problems }));
    }`;
  const output = await runToEnd(Deno.execPath(), {
    args: ["eval", "-A", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
    env: { VARIABLES: JSON.stringify(variables) },
  }, "loadConfig() under -A");
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/** A systemd-style credentials directory and a directory outside every allowed one. */
function directories() {
  const root = Deno.makeTempDirSync();
  const credentials = `${root}/credentials`;
  const outside = `${root}/outside`;
  Deno.mkdirSync(credentials);
  Deno.mkdirSync(outside);
  return { root, credentials, outside, remove: () => Deno.removeSync(root, { recursive: true }) };
}

Deno.test("loadConfig() reads each *_FILE secret from $CREDENTIALS_DIRECTORY, trimmed", async (t) => {
  const { credentials, remove } = directories();
  try {
    Deno.writeTextFileSync(`${credentials}/owm`, `${API_KEY}\n`);
    Deno.writeTextFileSync(`${credentials}/client`, `  ${CLIENT_SECRET}\r\n`);
    Deno.writeTextFileSync(`${credentials}/password`, `${PASSWORD}\n\n`);
    const base = {
      CREDENTIALS_DIRECTORY: credentials,
      OPENWEATHER_API_KEY_FILE: `${credentials}/owm`,
    };

    await t.step("OPENWEATHER_API_KEY_FILE", () => {
      const config = loadConfigFrom({ ...base, AUTH_MODE: "none" });
      assert.equal(config.openWeather.apiKey, API_KEY);
      assert.deepEqual(secretValues(config), [API_KEY]);
    });

    await t.step("BASIC_AUTH_PASSWORD_FILE", () => {
      const config = loadConfigFrom({
        ...base,
        AUTH_MODE: "basic",
        BASIC_AUTH_USER: "genesys",
        BASIC_AUTH_PASSWORD_FILE: `${credentials}/password`,
      });
      assert.equal(config.auth.mode === "basic" && config.auth.password, PASSWORD);
    });

    await t.step("OAUTH_CLIENT_SECRET_FILE and OAUTH_SIGNING_KEY_FILE", () => {
      Deno.writeTextFileSync(`${credentials}/signing.jwk`, '{"kty":"RSA","d":"private"}\n');
      const config = loadConfigFrom({
        ...base,
        PUBLIC_URL: "https://weather.example.test",
        OAUTH_CLIENT_ID: "genesys",
        OAUTH_CLIENT_SECRET_FILE: `${credentials}/client`,
        OAUTH_SIGNING_KEY_FILE: `${credentials}/signing.jwk`,
      });
      assert.ok(config.auth.mode === "jwt" && config.auth.builtIn);
      assert.equal(config.auth.builtIn.clientSecret, CLIENT_SECRET);
      assert.equal(config.auth.builtIn.signingKey, '{"kty":"RSA","d":"private"}');
      assert.equal(config.auth.builtIn.signingKeySource, "OAUTH_SIGNING_KEY_FILE");
    });
  } finally {
    remove();
  }
});

Deno.test("readSecretFileSync() refuses anything outside the allowed directories", async (t) => {
  const { root, credentials, outside, remove } = directories();
  const refused = (path: string) =>
    assert.throws(
      () => readSecretFileSync(path, [credentials]),
      (error: unknown) =>
        error instanceof SecretFileError && /outside the directories/.test(error.message) &&
        !error.message.includes("outside-secret"),
    );
  try {
    Deno.writeTextFileSync(`${outside}/key`, "outside-secret");
    await t.step("a file elsewhere", () => refused(`${outside}/key`));
    await t.step("a path that climbs out with ..", () => refused(`${credentials}/../outside/key`));
    await t.step("a symlink inside that points outside", () => {
      Deno.symlinkSync(`${outside}/key`, `${credentials}/link`);
      refused(`${credentials}/link`);
    });
    await t.step("a symlinked directory inside that points outside", () => {
      Deno.symlinkSync(outside, `${credentials}/dir`);
      refused(`${credentials}/dir/key`);
    });
    await t.step("a sibling whose name starts like the allowed directory", () => {
      Deno.mkdirSync(`${root}/credentials-evil`);
      Deno.writeTextFileSync(`${root}/credentials-evil/key`, "outside-secret");
      refused(`${root}/credentials-evil/key`);
    });
    await t.step("an allowed file is read, and a symlink that stays inside is followed", () => {
      Deno.writeTextFileSync(`${credentials}/key`, " inside-secret\n");
      Deno.symlinkSync(`${credentials}/key`, `${credentials}/alias`);
      assert.equal(readSecretFileSync(`${credentials}/key`, [credentials]), "inside-secret");
      assert.equal(readSecretFileSync(`${credentials}/alias`, [credentials]), "inside-secret");
    });
    await t.step("an empty or missing file is refused by name", () => {
      Deno.writeTextFileSync(`${credentials}/empty`, "\n");
      assert.throws(() => readSecretFileSync(`${credentials}/empty`, [credentials]), /is empty/);
      assert.throws(
        () => readSecretFileSync(`${credentials}/absent`, [credentials]),
        /cannot be read \(NotFound\)/,
      );
    });
  } finally {
    remove();
  }
});

Deno.test("loadConfig() refuses a *_FILE secret outside the allowed directories, naming the path only", () => {
  const { credentials, outside, remove } = directories();
  try {
    Deno.writeTextFileSync(`${outside}/owm`, API_KEY);
    const problems = configProblems({
      AUTH_MODE: "none",
      CREDENTIALS_DIRECTORY: credentials,
      OPENWEATHER_API_KEY_FILE: `${outside}/owm`,
    });
    assert.deepEqual(problems, [
      `OPENWEATHER_API_KEY_FILE "${outside}/owm" is outside the directories secret files may be read from (./secrets/, /run/secrets/ or $CREDENTIALS_DIRECTORY)`,
    ]);
    // Without CREDENTIALS_DIRECTORY the same directory is not allowed either.
    Deno.writeTextFileSync(`${credentials}/owm`, API_KEY);
    assert.match(
      configProblems({ AUTH_MODE: "none", OPENWEATHER_API_KEY_FILE: `${credentials}/owm` })[0]!,
      /is outside the directories/,
    );
  } finally {
    remove();
  }
});

Deno.test("loadConfig() refuses X and X_FILE together", () => {
  const { credentials, remove } = directories();
  try {
    Deno.writeTextFileSync(`${credentials}/secret`, CLIENT_SECRET);
    const file = `${credentials}/secret`;
    const both: [Record<string, string>, string][] = [
      [
        { AUTH_MODE: "none", OPENWEATHER_API_KEY: API_KEY, OPENWEATHER_API_KEY_FILE: file },
        "Set OPENWEATHER_API_KEY or OPENWEATHER_API_KEY_FILE, not both",
      ],
      [
        {
          OPENWEATHER_API_KEY: API_KEY,
          AUTH_MODE: "basic",
          BASIC_AUTH_USER: "genesys",
          BASIC_AUTH_PASSWORD: PASSWORD,
          BASIC_AUTH_PASSWORD_FILE: file,
        },
        "Set BASIC_AUTH_PASSWORD or BASIC_AUTH_PASSWORD_FILE, not both",
      ],
      [
        {
          OPENWEATHER_API_KEY: API_KEY,
          PUBLIC_URL: "https://weather.example.test",
          OAUTH_CLIENT_ID: "genesys",
          OAUTH_CLIENT_SECRET: CLIENT_SECRET,
          OAUTH_CLIENT_SECRET_FILE: file,
        },
        "Set OAUTH_CLIENT_SECRET or OAUTH_CLIENT_SECRET_FILE, not both",
      ],
    ];
    for (const [variables, expected] of both) {
      assert.deepEqual(configProblems({ ...variables, CREDENTIALS_DIRECTORY: credentials }), [
        expected,
      ]);
    }
  } finally {
    remove();
  }
});

Deno.test("a secret read from a file is never logged", () => {
  const { credentials, remove } = directories();
  try {
    Deno.writeTextFileSync(`${credentials}/owm`, `${API_KEY}\n`);
    const config = loadConfigFrom({
      AUTH_MODE: "none",
      CREDENTIALS_DIRECTORY: credentials,
      OPENWEATHER_API_KEY_FILE: `${credentials}/owm`,
    });
    const lines: string[] = [];
    const logger = createLogger({
      level: "debug",
      secrets: secretValues(config),
      write: (line) => lines.push(line),
    });
    logger.info("Configuration", describeConfig(config));
    logger.error("Upstream failed", { error: new Error(`GET /weather?q=London&appid=${API_KEY}`) });
    const text = lines.join("\n");
    assert.ok(!text.includes(API_KEY), text);
    assert.match(text, /\[REDACTED\]/);
  } finally {
    remove();
  }
});

Deno.test("main.ts reads OPENWEATHER_API_KEY_FILE from ./secrets/ under the start task's permissions", async () => {
  await using upstream = startFakeOpenWeather();
  using workdir = tempDir();
  Deno.mkdirSync(`${workdir.path}/secrets`);
  Deno.writeTextFileSync(`${workdir.path}/secrets/openweather_api_key`, `${TEST_API_KEY}\n`);
  Deno.writeTextFileSync(`${workdir.path}/elsewhere`, `${TEST_API_KEY}\n`);
  {
    await using service = spawnService({
      AUTH_MODE: "none",
      HOST: "127.0.0.1",
      PORT: "0",
      OPENWEATHER_BASE_URL: upstream.url.href,
      OPENWEATHER_API_KEY_FILE: "secrets/openweather_api_key",
    }, { cwd: workdir.path });
    const response = await postWeather(await service.listening(), "London");
    assert.equal(response.status, 200);
    assert.equal((await response.json()).city, "London");
    assert.ok(!JSON.stringify(service.lines).includes(TEST_API_KEY));
  }
  // The same file reached through .. from ./secrets/ is refused, whatever --allow-read says.
  await using escaping = spawnService({
    AUTH_MODE: "none",
    PORT: "0",
    OPENWEATHER_API_KEY_FILE: "secrets/../elsewhere",
  }, { cwd: workdir.path });
  assert.equal((await escaping.waitForExit()).code, 1);
  assert.match(
    String(escaping.lines[0]?.msg),
    /OPENWEATHER_API_KEY_FILE "secrets\/\.\.\/elsewhere"/,
  );
  assert.ok(!JSON.stringify(escaping.lines).includes(TEST_API_KEY));
});

Deno.test("CREDENTIALS_DIRECTORY under /proc, or leading there, is refused", async (t) => {
  const { root, credentials, remove } = directories();
  const problem = (directory: string) =>
    `CREDENTIALS_DIRECTORY must not be under /proc (there a process's environment and memory are files), got "${directory}"`;
  try {
    Deno.symlinkSync("/proc/self", `${credentials}/self`);
    Deno.symlinkSync("/proc", `${root}/proc-link`);
    for (
      const directory of [
        "/proc",
        "/proc/self",
        "/proc/1/",
        `${credentials}/self`,
        `${root}/proc-link`,
      ]
    ) {
      await t.step(`${directory}: a problem naming the variable`, () => {
        assert.deepEqual(configProblems({ ...MINIMAL, CREDENTIALS_DIRECTORY: directory }), [
          problem(directory),
        ]);
      });
    }
    await t.step(
      "under -A: /proc/self/environ is never read as a secret, nor /dev/fd trusted",
      async () => {
        // The test runner may not read /proc/self; the service under -A (or on Deploy) may.
        const environ = await loadConfigWithAllPermissions({
          AUTH_MODE: "none",
          CREDENTIALS_DIRECTORY: "/proc/self",
          OPENWEATHER_API_KEY_FILE: "/proc/self/environ",
        });
        assert.deepEqual(environ, {
          problems: [
            problem("/proc/self"),
            `OPENWEATHER_API_KEY_FILE "/proc/self/environ" is outside the directories secret files may be read from (./secrets/, /run/secrets/ or $CREDENTIALS_DIRECTORY)`,
          ],
        });
        if (Deno.build.os === "linux") {
          // A link to /proc/self/fd.
          const devFd = await loadConfigWithAllPermissions({
            ...MINIMAL,
            CREDENTIALS_DIRECTORY: "/dev/fd",
          });
          assert.deepEqual(devFd, { problems: [problem("/dev/fd")] });
        }
      },
    );
    await t.step("a directory elsewhere whose name merely starts with proc is fine", () => {
      Deno.mkdirSync(`${root}/procedures`);
      assert.equal(
        loadConfigFrom({ ...MINIMAL, CREDENTIALS_DIRECTORY: `${root}/procedures` }).auth.mode,
        "none",
      );
      assert.equal(
        loadConfigFrom({ ...MINIMAL, CREDENTIALS_DIRECTORY: "/processes" }).auth.mode,
        "none",
      );
    });
  } finally {
    remove();
  }
});
