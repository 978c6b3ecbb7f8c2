import assert from "node:assert/strict";
import { jsonPath, renderTemplate } from "../src/genesys/template.ts";
import { ERROR_BODIES, startFakeOpenWeather } from "./support/fake_openweather.ts";
import { taskArguments } from "./support/process.ts";
import { startService } from "./support/service.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CLIENT_SECRET = "a-long-client-secret-for-invoke";

/** Runs `deno task invoke` with only the given environment. */
async function invoke(args: string[], env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...taskArguments("invoke"), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("renderTemplate() and jsonPath() cover what the exported definitions use", () => {
  const context = {
    credentials: { clientId: "id", clientSecret: "s\u00e9cret" },
    input: { rawRequest: '{"a":1}' },
  };
  assert.equal(renderTemplate("${input.rawRequest}", context), '{"a":1}');
  assert.equal(
    renderTemplate(
      'Basic $encoding.base64("${credentials.clientId}:${credentials.clientSecret}")',
      context,
    ),
    `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode("id:s\u00e9cret")))}`,
  );
  assert.equal(
    renderTemplate('{ "token": ${tokenValue} }', { tokenValue: "abc" }),
    '{ "token": abc }',
  );
  assert.throws(
    () => renderTemplate("${credentials.missing}", context),
    /"credentials.missing" is not set/,
  );
  assert.equal(jsonPath({ access_token: "t", nested: { a: 1 } }, "$.nested.a"), 1);
  assert.equal(jsonPath({}, "$.access_token"), undefined);
});

Deno.test("deno task invoke runs the action as Genesys would", async (t) => {
  const upstream = startFakeOpenWeather();
  const oauth = await startService({
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: "genesys",
    OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    PUBLIC_URL: "https://weather.example.test",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const basic = await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: "genesys",
    BASIC_AUTH_PASSWORD: "basic-password",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const url = (service: { url: URL }) => service.url.href.replace(/\/$/, "");
  try {
    await t.step("User Defined (OAuth): custom auth action, request, output contract", async () => {
      const { code, stdout, stderr } = await invoke(
        ["--url", url(oauth), "--city", "London", "--country", "GB", "--credentials-from-env"],
        { OAUTH_CLIENT_ID: "genesys", OAUTH_CLIENT_SECRET: CLIENT_SECRET },
      );
      assert.equal(code, 0, stdout + stderr);
      assert.match(stdout, /Step 1 \(custom auth action\): got a token/);
      assert.match(stdout, /Step 2 \(action request\): HTTP 200/);
      assert.match(stdout, /Step 3 \(output contract\): the answer matches the success schema/);
      assert.match(stdout, /^ {2}temperature = 11\.05$/m);
      assert.match(stdout, /^ {2}condition = "Light rain"$/m);
      assert.match(stdout, /^ {2}error_code = NOT_SET$/m);
      assert.ok(!stdout.includes(CLIENT_SECRET));
    });
    await t.step("a wrong client secret fails at step 1, saying why", async () => {
      const { code, stdout } = await invoke(
        ["--url", url(oauth), "--city", "London", "--credentials-from-env"],
        { OAUTH_CLIENT_ID: "genesys", OAUTH_CLIENT_SECRET: "not-the-secret-at-all" },
      );
      assert.equal(code, 1);
      assert.match(stdout, /^Step 1 \(custom auth action\) failed: HTTP 401 invalid_client/m);
    });
    await t.step("Basic Auth", async () => {
      const { code, stdout } = await invoke(
        [
          "--url",
          url(basic),
          "--city",
          "London",
          "--credential-type",
          "basic",
          "--credentials-from-env",
        ],
        { BASIC_AUTH_USER: "genesys", BASIC_AUTH_PASSWORD: "basic-password" },
      );
      assert.equal(code, 0, stdout);
      assert.match(stdout, /^ {2}city = "London"$/m);
    });
    await t.step(
      "an answer with an error_code exits 3 and shows the weather fields as NOT_SET",
      async () => {
        upstream.respondWith(() => Response.json(ERROR_BODIES[401], { status: 401 }));
        const { code, stdout } = await invoke(
          [
            "--url",
            url(basic),
            "--city",
            "Nowhere",
            "--credential-type",
            "basic",
            "--credentials-from-env",
          ],
          { BASIC_AUTH_USER: "genesys", BASIC_AUTH_PASSWORD: "basic-password" },
        );
        assert.equal(code, 3, stdout);
        assert.match(stdout, /^ {2}error_code = "UPSTREAM_AUTH_FAILED"$/m);
        assert.match(stdout, /^ {2}temperature = NOT_SET$/m);
      },
    );
    await t.step("a bad input fails before calling, and missing arguments exit 2", async () => {
      const wrong = await invoke(["--url", url(basic), "--credential-type", "basic"], {});
      assert.equal(wrong.code, 2);
    });
  } finally {
    await oauth.close();
    await basic.close();
    await upstream.close();
  }
});
