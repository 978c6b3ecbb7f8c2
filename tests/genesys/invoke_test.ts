import assert from "node:assert/strict";
import { ERROR_BODIES, startFakeOpenWeather } from "../support/fake_openweather.ts";
import { runToEnd, taskArguments } from "../support/process.ts";
import { startService } from "../support/service.ts";
import { TestClock } from "../support/clock.ts";
import { generateTestKey, signToken } from "../support/tokens.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLIENT_SECRET = "a-long-client-secret-for-invoke";

/** Runs `deno task invoke` with only the given environment. */
async function invoke(args: string[], env: Record<string, string>) {
  const output = await runToEnd(Deno.execPath(), {
    args: [...taskArguments("invoke"), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
  }, "deno task invoke");
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("deno task invoke runs the action as Genesys would", async (t) => {
  await using upstream = startFakeOpenWeather();
  await using oauth = await startService({
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: "genesys",
    OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    PUBLIC_URL: "https://weather.example.test",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  await using basic = await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: "genesys",
    BASIC_AUTH_PASSWORD: "basic-password",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const url = (service: { url: URL }) => service.url.href.replace(/\/$/, "");
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
  await t.step("--scope reaches the token endpoint: a scope it lacks is refused", async () => {
    const { code, stdout } = await invoke(
      ["--url", url(oauth), "--city", "London", "--scope", "admin", "--credentials-from-env"],
      { OAUTH_CLIENT_ID: "genesys", OAUTH_CLIENT_SECRET: CLIENT_SECRET },
    );
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^Step 1 \(custom auth action\) failed: HTTP 400 invalid_scope/m);
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
});

Deno.test("deno task invoke runs the action for each kind of place", async (t) => {
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: "genesys",
    BASIC_AUTH_PASSWORD: "basic-password",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const run = (args: string[]) =>
    invoke(
      [
        "--url",
        service.url.href.replace(/\/$/, ""),
        ...args,
        "--credential-type",
        "basic",
        "--credentials-from-env",
      ],
      { BASIC_AUTH_USER: "genesys", BASIC_AUTH_PASSWORD: "basic-password" },
    );
  await t.step("postal code: the postal code action, with its country", async () => {
    const { code, stdout } = await run(["--postal-code", "SW1A 1AA", "--country", "GB"]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^Action: Get current weather by postal code$/m);
    assert.match(
      stdout,
      /^Step 2 \(action request\): POST \S+ \{"postal_code":"SW1A 1AA","country_code":"GB"\}$/m,
    );
    assert.match(stdout, /^ {2}city = "London"$/m);
  });
  await t.step("coordinates: sent as numbers, as an Architect Decimal is", async () => {
    const { code, stdout } = await run([
      "--latitude",
      "51.5072",
      "--longitude=-0.1276",
      "--units",
      "imperial",
    ]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^Action: Get current weather by coordinates$/m);
    assert.match(stdout, /\{"latitude":51\.5072,"longitude":-0\.1276,"units":"imperial"\}$/m);
    assert.match(stdout, /^ {2}city = "London"$/m);
    assert.match(stdout, /^ {2}temperature_unit = "fahrenheit"$/m);
  });
  await t.step("--kind names the action; a city with a language tag", async () => {
    const { code, stdout } = await run([
      "--kind",
      "city",
      "--city",
      "Tokyo",
      "--lang",
      "en-us",
    ]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^Action: Get current weather by city$/m);
    assert.match(stdout, /^ {2}city = "Tokyo"$/m);
    assert.match(stdout, /^ {2}lang = "en"$/m);
  });
  await t.step("--action runs the definition in a file", async () => {
    const { code, stdout } = await run([
      "--action",
      "genesys/actions/get-current-weather-by-postal-code.basic-auth.json",
      "--postal-code",
      "10001",
      "--country",
      "US",
    ]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^ {2}city = "New York"$/m);
  });
  await t.step(
    "an input the service cannot use is a success with error_code INVALID_INPUT",
    async () => {
      // What a voice flow needs: the Success path, with a reason it can speak or branch on.
      const { code, stdout } = await run(["--latitude", "91", "--longitude", "0"]);
      assert.equal(code, 3, stdout);
      assert.match(stdout, /^Step 2 \(action request\): HTTP 200$/m);
      assert.match(stdout, /^Step 3 \(output contract\): the answer matches the success schema$/m);
      assert.match(stdout, /^ {2}error_code = "INVALID_INPUT"$/m);
      assert.match(
        stdout,
        /^ {2}error_message = "Field \\"latitude\\" must be a number from -90 to 90"$/m,
      );
      assert.match(stdout, /^ {2}temperature = NOT_SET$/m);
    },
  );
  await t.step("a required input missing: Genesys fails the action before calling", async () => {
    const { code, stdout } = await run(["--kind", "postal_code", "--postal-code", "SW1A 1AA"]);
    assert.equal(code, 1, stdout);
    assert.match(
      stdout,
      /^The input does not match the input contract: data must have required property 'country_code'$/m,
    );
    assert.doesNotMatch(stdout, /Step 2/);
  });
  await t.step("an input the action does not have, or two kinds of place, exit 2", async () => {
    const other = await run(["--kind", "city", "--city", "London", "--postal-code", "SW1A 1AA"]);
    assert.equal(other.code, 2, other.stdout);
    assert.match(
      other.stdout,
      /^--postal-code is not an input of "Get current weather by city": its inputs are city_name, country_code, units, lang$/m,
    );
    const both = await run(["--city", "London", "--latitude", "51.5", "--longitude", "0"]);
    assert.equal(both.code, 2, both.stdout);
    assert.match(both.stdout, /^Give one kind of place, not city and coordinates/m);
  });
});

Deno.test("deno task invoke --forecast runs the forecast action of the kind of place", async (t) => {
  // TestClock's start, 08:00 in New York: the stand-in's forecast starts three hours later.
  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  const forecastUpstream = {
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
  };
  await using basic = await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: "genesys",
    BASIC_AUTH_PASSWORD: "basic-password",
    ...forecastUpstream,
  }, { clock });
  await using oauth = await startService({
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: "genesys",
    OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    PUBLIC_URL: "https://weather.example.test",
    ...forecastUpstream,
  }, { clock });
  const url = (service: { url: URL }) => service.url.href.replace(/\/$/, "");
  const run = (args: string[]) =>
    invoke(
      ["--url", url(basic), ...args, "--credential-type", "basic", "--credentials-from-env"],
      { BASIC_AUTH_USER: "genesys", BASIC_AUTH_PASSWORD: "basic-password" },
    );
  await t.step(
    "postal code: the forecast by postal code, every step, the flow's fields",
    async () => {
      const { code, stdout } = await run([
        "--forecast",
        "--postal-code",
        "10001",
        "--country",
        "US",
      ]);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /^Action: Get weather forecast by postal code$/m);
      assert.match(
        stdout,
        /^Step 2 \(action request\): POST \S+\/data-action\/forecast \{"postal_code":"10001","country_code":"US"\}$/m,
      );
      assert.match(stdout, /^Step 3 \(output contract\): the answer matches the success schema$/m);
      // The values tests/weather/forecast_test.ts works out by hand for this morning.
      assert.match(stdout, /^ {2}next_hours_condition = "Light rain"$/m);
      assert.match(stdout, /^ {2}next_hours_precipitation_probability = 55$/m);
      assert.match(stdout, /^ {2}next_hours_rain_expected = true$/m);
      assert.match(stdout, /^ {2}today_temperature_min = 18$/m);
      assert.match(stdout, /^ {2}tomorrow_condition_group = "thunderstorm"$/m);
      assert.match(stdout, /^ {2}forecast_at = "2026-06-01T15:00:00.000Z"$/m);
      assert.match(stdout, /^ {2}next_hours_severe_reason = NOT_SET$/m);
      assert.match(stdout, /^ {2}error_code = NOT_SET$/m);
      assert.doesNotMatch(stdout, /^ {2}temperature = /m);
      assert.doesNotMatch(stdout, /cannot map/);
      assert.equal(upstream.requests.at(-1)!.pathname, "/data/2.5/forecast");
    },
  );
  await t.step("--kind names the kind: coordinates, sent as numbers", async () => {
    const { code, stdout } = await run([
      "--forecast",
      "--kind",
      "coordinates",
      "--latitude",
      "51.5072",
      "--longitude=-0.1276",
      "--units",
      "imperial",
    ]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^Action: Get weather forecast by coordinates$/m);
    assert.match(stdout, /\{"latitude":51\.5072,"longitude":-0\.1276,"units":"imperial"\}$/m);
    assert.match(stdout, /^ {2}city = "London"$/m);
    assert.match(stdout, /^ {2}temperature_unit = "fahrenheit"$/m);
  });
  await t.step("User Defined (OAuth): the custom auth action, then the forecast", async () => {
    const { code, stdout } = await invoke(
      ["--url", url(oauth), "--forecast", "--city", "New York", "--credentials-from-env"],
      { OAUTH_CLIENT_ID: "genesys", OAUTH_CLIENT_SECRET: CLIENT_SECRET },
    );
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^Action: Get weather forecast by city$/m);
    assert.match(stdout, /^Step 1 \(custom auth action\): got a token/m);
    assert.match(
      stdout,
      /^ {2}summary = "New York: Light rain, 55%; tomorrow: Thunderstorm, 15–28 degrees Celsius\."$/m,
    );
  });
  await t.step("an error_code answer exits 3, the forecast fields NOT_SET", async () => {
    const { code, stdout } = await run(["--forecast", "--city", "Atlantis"]);
    assert.equal(code, 3, stdout);
    assert.match(stdout, /^ {2}error_code = "CITY_NOT_FOUND"$/m);
    assert.match(stdout, /^ {2}next_hours_condition = NOT_SET$/m);
  });
  await t.step(
    "--action runs a forecast definition file; with --forecast it is refused",
    async () => {
      const file = "genesys/actions/get-weather-forecast-by-city.basic-auth.json";
      const ran = await run(["--action", file, "--city", "Tokyo"]);
      assert.equal(ran.code, 0, ran.stdout);
      assert.match(ran.stdout, /^Action: Get weather forecast by city$/m);
      assert.match(ran.stdout, /^ {2}city = "Tokyo"$/m);
      const both = await run(["--forecast", "--action", file, "--city", "Tokyo"]);
      assert.equal(both.code, 2, both.stdout);
      assert.match(both.stdout, /^Give --forecast or --action, not both$/m);
    },
  );
  await t.step("without --forecast the same place runs the weather action", async () => {
    const { code, stdout } = await run(["--postal-code", "10001", "--country", "US"]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^Action: Get current weather by postal code$/m);
    assert.match(stdout, /^ {2}temperature = \d/m);
    assert.doesNotMatch(stdout, /next_hours_condition/);
  });
});

/**
 * A loopback identity provider in the manner of Auth0: client credentials with
 * a required `audience`, tokens for that audience, and its key set.
 */
async function startAudienceProvider(clientId: string, clientSecret: string) {
  const key = await generateTestKey("idp-key");
  const bodies: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/.well-known/jwks.json") return Response.json({ keys: [key.publicJwk] });
    const body = await req.text();
    bodies.push(body);
    if (req.headers.get("authorization") !== `Basic ${btoa(`${clientId}:${clientSecret}`)}`) {
      return Response.json({ error: "invalid_client" }, { status: 401 });
    }
    const params = new URLSearchParams(body);
    const audience = params.get("audience");
    if (params.get("grant_type") !== "client_credentials" || !audience) {
      return Response.json({ error: "access_denied", error_description: "No audience" }, {
        status: 403,
      });
    }
    const token = await signToken({
      key,
      nowS: Math.floor(Date.now() / 1000),
      claims: { iss: issuer, aud: audience, scope: params.get("scope") ?? "" },
    });
    return Response.json({ access_token: token, token_type: "Bearer", expires_in: 3600 });
  });
  const issuer = `http://127.0.0.1:${server.addr.port}/`;
  return {
    issuer,
    tokenUrl: `${issuer}oauth/token`,
    jwksUrl: `${issuer}.well-known/jwks.json`,
    bodies,
    close: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("deno task invoke --audience gets a token from an identity provider that needs one", async (t) => {
  await using idp = await startAudienceProvider("genesys-m2m", CLIENT_SECRET);
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: idp.jwksUrl,
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: "https://weather.example.test/",
    AUTH_REQUIRED_SCOPE: "weather.read",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const env = { OAUTH_CLIENT_ID: "genesys-m2m", OAUTH_CLIENT_SECRET: CLIENT_SECRET };
  const base = [
    "--url",
    service.url.href.replace(/\/$/, ""),
    "--city",
    "London",
    "--token-url",
    idp.tokenUrl,
    "--credentials-from-env",
  ];
  await t.step("without --audience the provider refuses at step 1", async () => {
    const { code, stdout } = await invoke(base, env);
    assert.equal(code, 1, stdout);
    assert.match(
      stdout,
      /^Step 1 \(custom auth action\) failed: HTTP 403 access_denied No audience/m,
    );
    assert.equal(idp.bodies.at(-1), "grant_type=client_credentials");
  });
  await t.step("with --audience and --scope the whole flow works", async () => {
    const { code, stdout } = await invoke(
      [...base, "--audience", "https://weather.example.test/", "--scope", "weather.read"],
      env,
    );
    assert.equal(code, 0, stdout);
    assert.equal(
      idp.bodies.at(-1),
      "grant_type=client_credentials&scope=weather.read&audience=https%3A%2F%2Fweather.example.test%2F",
    );
    assert.match(stdout, /^ {2}condition = "Light rain"$/m);
  });
  await t.step("a token for another audience is refused by the service at step 2", async () => {
    const { code, stdout } = await invoke(
      [...base, "--audience", "api://another", "--scope", "weather.read"],
      env,
    );
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^Step 2 \(action request\) failed: HTTP 401/m);
  });
});

Deno.test("deno task invoke: any character in a secret, the organisation id, --input", async (t) => {
  // A quote, a backslash, a colon and scripts outside Latin-1: Genesys base64-encodes UTF-8.
  const secret = 'pa"ss\\wo:rd–ñ日本-and-long-enough';
  await using upstream = startFakeOpenWeather();
  await using oauth = await startService({
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: "genesys",
    OAUTH_CLIENT_SECRET: secret,
    PUBLIC_URL: "https://weather.example.test",
    OPENWEATHER_BASE_URL: upstream.url.href,
    GENESYS_ORG_IDS: "6e1b9a4c-0000-4000-8000-00000000000a",
  });
  await using basic = await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: "genesys",
    BASIC_AUTH_PASSWORD: secret,
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const url = (service: { url: URL }) => service.url.href.replace(/\/$/, "");
  const orgId = ["--org-id", "6e1b9a4c-0000-4000-8000-00000000000a"];
  await t.step(
    "User Defined (OAuth): the client secret reaches the token endpoint intact",
    async () => {
      const { code, stdout } = await invoke(
        ["--url", url(oauth), "--city", "London", ...orgId, "--credentials-from-env"],
        { OAUTH_CLIENT_ID: "genesys", OAUTH_CLIENT_SECRET: secret },
      );
      assert.equal(code, 0, stdout);
      assert.match(stdout, /^ {2}condition = "Light rain"$/m);
      assert.ok(!stdout.includes(secret));
    },
  );
  await t.step("Basic Auth: the password too", async () => {
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
      { BASIC_AUTH_USER: "genesys", BASIC_AUTH_PASSWORD: secret },
    );
    assert.equal(code, 0, stdout);
  });
  await t.step(
    "ININ-Organization-Id: another organisation is refused, the Failure path",
    async () => {
      const { code, stdout } = await invoke(
        ["--url", url(oauth), "--city", "London", "--credentials-from-env"],
        { OAUTH_CLIENT_ID: "genesys", OAUTH_CLIENT_SECRET: secret },
      );
      assert.equal(code, 1, stdout);
      assert.match(stdout, /^Step 2 \(action request\) failed: HTTP 403/m);
      assert.match(stdout, /^Architect takes the Failure path\.$/m);
    },
  );
  await t.step(
    "--action FILE with --input, as for an action edited and exported from Genesys",
    async () => {
      const edited = await Deno.makeTempFile({ suffix: ".json" });
      try {
        const definition = JSON.parse(
          await Deno.readTextFile(
            `${ROOT}genesys/actions/get-current-weather-by-city.basic-auth.json`,
          ),
        );
        definition.name = "Edited: speak the condition";
        definition.config.request.requestTemplate =
          '{"city_name": "$esc.jsonString($input.city_name)", "lang": "es-us"}';
        definition.config.response.translationMap = { condition: "$.condition", city: "$['city']" };
        definition.config.response.successTemplate = '{"condition": ${condition}, "city": ${city}}';
        await Deno.writeTextFile(edited, JSON.stringify(definition));
        const { code, stdout } = await invoke(
          [
            "--url",
            url(basic),
            "--action",
            edited,
            "--input",
            '{"city_name":"London"}',
            "--credential-type",
            "basic",
            "--credentials-from-env",
          ],
          { BASIC_AUTH_USER: "genesys", BASIC_AUTH_PASSWORD: secret },
        );
        assert.equal(code, 0, stdout);
        assert.match(stdout, /^Action: Edited: speak the condition$/m);
        assert.match(stdout, /^ {2}condition = "Lluvia ligera"$/m);
        assert.match(stdout, /^ {2}temperature = NOT_SET$/m);
      } finally {
        await Deno.remove(edited);
      }
    },
  );
  await t.step("--input that is not a JSON object of values exits 2", async () => {
    const { code, stdout } = await invoke(
      ["--url", url(basic), "--kind", "city", "--input", '{"city_name":{"a":1}}'],
      {},
    );
    assert.equal(code, 2, stdout);
    assert.match(stdout, /^--input must be a JSON object of strings, numbers and booleans$/m);
  });
});
