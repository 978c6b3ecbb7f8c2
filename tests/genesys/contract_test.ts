/**
 * Every outcome of the service, validated against the Genesys contract as it
 * is committed under genesys/, by an independent JSON Schema validator (ajv,
 * draft-04 as Genesys uses), not by the code that generated the schemas.
 */

import assert from "node:assert/strict";
import ajvDraft04 from "ajv-draft-04";
import { ERROR_BODIES, startFakeOpenWeather } from "../support/fake_openweather.ts";
import { TestClock } from "../support/clock.ts";
import { startService, WITHOUT_UPSTREAM_PROTECTION } from "../support/service.ts";
import { fetchWithin } from "../support/wait.ts";

const read = (path: string) =>
  JSON.parse(Deno.readTextFileSync(new URL(`../../genesys/${path}`, import.meta.url)));
// A CommonJS module: at run time its default import is the class itself.
const Ajv = ajvDraft04 as unknown as typeof ajvDraft04.default;
const ajv = new Ajv({ allErrors: true, strict: true });
// Every action has this one output contract (tests/genesys/export_test.ts checks it).
const successSchema =
  read("actions/get-current-weather-by-city.basic-auth.json").contract.output.successSchema;
const validateSuccess = ajv.compile(successSchema);
const validateError = ajv.compile(read("schemas/error-response.schema.json"));
const declared = new Set(Object.keys(successSchema.properties));

async function assertMatchesContract(
  response: Response,
  label: string,
): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = await response.json();
  if (response.status === 200) {
    assert.ok(validateSuccess(body), `${label}: ${ajv.errorsText(validateSuccess.errors)}`);
    // Genesys allows undeclared fields, but a field it does not know is one Architect cannot map.
    for (const key of Object.keys(body)) {
      assert.ok(declared.has(key), `${label}: "${key}" is not in the successSchema`);
    }
  } else {
    assert.ok(
      validateError(body),
      `${label} (${response.status}): ${ajv.errorsText(validateError.errors)}`,
    );
  }
  return body;
}

Deno.test("every answer of the weather action matches the exported Genesys contract", async (t) => {
  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    ...WITHOUT_UPSTREAM_PROTECTION,
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_TIMEOUT_MS: "100",
  }, { now: clock.now });
  const ask = (body: unknown, init?: RequestInit) =>
    service.post("/data-action/weather", body, init);
  for (const units of ["metric", "imperial", "standard"]) {
    await t.step(`success in ${units} units`, async () => {
      const body = await assertMatchesContract(await ask({ city_name: "London", units }), units);
      assert.equal(body.units, units);
    });
  }
  await t.step("success by postal code and by coordinates", async () => {
    const byPostalCode = await assertMatchesContract(
      await ask({ postal_code: "10001", country_code: "US" }),
      "postal code",
    );
    assert.equal(byPostalCode.city, "New York");
    const byCoordinates = await assertMatchesContract(
      await ask({ latitude: 51.5072, longitude: -0.1276 }),
      "coordinates",
    );
    assert.equal(byCoordinates.city, "London");
  });
  await t.step("error_code INVALID_INPUT", async () => {
    const response = await ask({ latitude: 91, longitude: 0 });
    assert.equal(response.status, 200);
    const body = await assertMatchesContract(response, "INVALID_INPUT");
    assert.deepEqual(body, {
      error_code: "INVALID_INPUT",
      error_message: 'Field "latitude" must be a number from -90 to 90',
    });
  });
  const failures: [string, () => Response | Promise<Response>][] = [
    ["CITY_NOT_FOUND", () => Response.json(ERROR_BODIES[404], { status: 404 })],
    ["UPSTREAM_AUTH_FAILED", () => Response.json(ERROR_BODIES[401], { status: 401 })],
    ["UPSTREAM_RATE_LIMITED", () => Response.json(ERROR_BODIES[429], { status: 429 })],
    ["UPSTREAM_UNAVAILABLE", () => new Response("oops", { status: 500 })],
  ];
  for (const [code, respond] of failures) {
    await t.step(`error_code ${code}`, async () => {
      upstream.respondWith(respond);
      const body = await assertMatchesContract(await ask({ city_name: "London" }), code);
      assert.equal(body.error_code, code);
    });
  }
  upstream.respondWith(undefined);
  await t.step("error_code UPSTREAM_TIMEOUT", async () => {
    const release = upstream.hold();
    try {
      const body = await assertMatchesContract(await ask({ city_name: "London" }), "timeout");
      assert.equal(body.error_code, "UPSTREAM_TIMEOUT");
    } finally {
      release();
    }
  });

  const httpErrors: [number, () => Promise<Response>][] = [
    [400, () => ask("{not json")],
    [404, () => fetchWithin(new URL("/nope", service.url))],
    [405, () => fetchWithin(new URL("/data-action/weather", service.url))],
    [413, () => ask({ city_name: "x".repeat(20_000) })],
    [415, () => ask({ city_name: "London" }, { headers: { "content-type": "text/plain" } })],
  ];
  for (const [status, send] of httpErrors) {
    await t.step(`HTTP ${status}`, async () => {
      const response = await send();
      assert.equal(response.status, status);
      await assertMatchesContract(response, `HTTP ${status}`);
    });
  }
});

Deno.test("each action's input contract lets through what the service answers, and stops what it lacks", async (t) => {
  await using upstream = startFakeOpenWeather();
  await using service = await startService({ OPENWEATHER_BASE_URL: upstream.url.href });
  const inputs: [string, Record<string, unknown>, string][] = [
    ["city", { city_name: "Tokyo", lang: "en-us" }, "Tokyo"],
    ["postal-code", { postal_code: "SW1A 1AA", country_code: "GB", units: "imperial" }, "London"],
    ["coordinates", { latitude: 51.5072, longitude: -0.1276 }, "London"],
  ];
  for (const [kind, input, city] of inputs) {
    await t.step(kind, async () => {
      const { inputSchema } = read(`actions/get-current-weather-by-${kind}.basic-auth.json`)
        .contract.input;
      const validateInput = ajv.compile(inputSchema);
      // Genesys checks the input first: it must pass, and the service must answer with weather.
      assert.ok(validateInput(input), ajv.errorsText(validateInput.errors));
      const body = await assertMatchesContract(
        await service.post("/data-action/weather", input),
        kind,
      );
      assert.equal(body.city, city);
      assert.equal(body.error_code, undefined);
      // Without any one of its required inputs, Genesys fails the action before it calls.
      for (const name of inputSchema.required as string[]) {
        const { [name]: _, ...rest } = input;
        assert.equal(validateInput(rest), false, `${kind} without ${name}`);
      }
    });
  }
  await t.step("coordinates are numbers: a string is stopped by Genesys", () => {
    const { inputSchema } = read("actions/get-current-weather-by-coordinates.basic-auth.json")
      .contract.input;
    assert.equal(ajv.validate(inputSchema, { latitude: "51.5", longitude: "-0.12" }), false);
  });
});

Deno.test("a stale answer and the auth errors match the contract too", async (t) => {
  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  await using basic = await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: "genesys",
    BASIC_AUTH_PASSWORD: "a-good-password",
    OPENWEATHER_BASE_URL: upstream.url.href,
  }, { now: clock.now });
  await using jwt = await startService({
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json",
    AUTH_ISSUER: "https://idp.example.test/",
    AUTH_AUDIENCE: "api://weather",
  });
  const as = (authorization?: string) =>
    basic.post("/data-action/weather", { city_name: "London" }, {
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    });
  await t.step("a stale answer", async () => {
    await (await as(`Basic ${btoa("genesys:a-good-password")}`)).text();
    clock.advance(601_000);
    upstream.respondWith(() => new Response("down", { status: 503 }));
    const body = await assertMatchesContract(
      await as(`Basic ${btoa("genesys:a-good-password")}`),
      "stale",
    );
    assert.equal(body.stale, true);
  });
  await t.step("HTTP 401", async () => {
    const response = await as();
    assert.equal(response.status, 401);
    await assertMatchesContract(response, "HTTP 401");
  });
  await t.step("HTTP 429", async () => {
    for (let i = 0; i < 10; i++) await (await as(`Basic ${btoa(`genesys:guess-${i}`)}`)).text();
    const response = await as(`Basic ${btoa("genesys:guess-10")}`);
    assert.equal(response.status, 429);
    await assertMatchesContract(response, "HTTP 429");
  });
  await t.step("HTTP 503", async () => {
    await jwt.waitForLog("Key set could not be fetched");
    const response = await jwt.post("/data-action/weather", {}, {
      headers: { "content-type": "application/json", authorization: "Bearer a.b.c" },
    });
    // A malformed token is refused before keys are needed; a well-formed one needs them.
    assert.equal(response.status, 401);
    await assertMatchesContract(response, "HTTP 401 (jwt)");
    const ready = await fetchWithin(new URL("/readyz", jwt.url));
    assert.equal(ready.status, 503);
    await assertMatchesContract(ready, "HTTP 503 (readyz)");
  });
});
