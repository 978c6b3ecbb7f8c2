/**
 * Every outcome of the service's actions (the weather and the forecast),
 * validated against the Genesys contract as it is committed under genesys/,
 * by an independent JSON Schema validator (ajv, draft-04 as Genesys uses),
 * not by the code that generated the schemas.
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
const validateError = ajv.compile(read("schemas/error-response.schema.json"));

/**
 * The output contract of one of the service's actions, as committed: every
 * kind of place of an action has this one (tests/genesys/export_test.ts
 * checks it), so the city action's stands for all.
 */
function outputContract(stem: string) {
  const schema = read(`actions/${stem}-by-city.basic-auth.json`).contract.output.successSchema;
  return {
    validate: ajv.compile(schema),
    declared: new Set(Object.keys(schema.properties as Record<string, unknown>)),
  };
}
const WEATHER = outputContract("get-current-weather");
const FORECAST = outputContract("get-weather-forecast");

/** An upstream answer for each error_code it leads to, for both actions' tests. */
const UPSTREAM_FAILURES: [string, () => Response][] = [
  ["CITY_NOT_FOUND", () => Response.json(ERROR_BODIES[404], { status: 404 })],
  ["UPSTREAM_AUTH_FAILED", () => Response.json(ERROR_BODIES[401], { status: 401 })],
  ["UPSTREAM_RATE_LIMITED", () => Response.json(ERROR_BODIES[429], { status: 429 })],
  ["UPSTREAM_UNAVAILABLE", () => new Response("oops", { status: 500 })],
];

async function assertMatchesContract(
  response: Response,
  label: string,
  contract = WEATHER,
): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = await response.json();
  if (response.status === 200) {
    const { validate, declared } = contract;
    assert.ok(validate(body), `${label}: ${ajv.errorsText(validate.errors)}`);
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
    // Long enough that a loaded machine never turns a success step into UPSTREAM_TIMEOUT.
    OPENWEATHER_TIMEOUT_MS: "1000",
  }, { clock });
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
  for (const [code, respond] of UPSTREAM_FAILURES) {
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

Deno.test("every answer of the forecast action matches the exported Genesys contract", async (t) => {
  // TestClock's start, 2026-06-01T12:00Z, is 08:00 in New York; the stand-in's forecast
  // (tests/support/forecast_fixture.ts) starts at 15:00Z and runs five days.
  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  const upstreamUrls = {
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
  };
  await using service = await startService({
    ...WITHOUT_UPSTREAM_PROTECTION,
    FORECAST_CACHE_TTL_S: "0",
    ...upstreamUrls,
    // Long enough that a loaded machine never turns a success step into UPSTREAM_TIMEOUT.
    OPENWEATHER_TIMEOUT_MS: "1000",
  }, { clock });
  /** Every field some answer had: by the end, every field the contract declares. */
  const seen = new Set<string>();
  const ask = async (body: unknown, label: string) => {
    const response = await service.post("/data-action/forecast", body);
    assert.equal(response.status, 200, label);
    const answer = await assertMatchesContract(response, label, FORECAST);
    for (const key of Object.keys(answer)) seen.add(key);
    return answer;
  };
  for (const units of ["metric", "imperial", "standard"]) {
    await t.step(`success in ${units} units`, async () => {
      const body = await ask({ city_name: "New York", units }, units);
      assert.equal(body.units, units);
      assert.equal(body.next_hours_condition, "Light rain");
      assert.ok(Number.isInteger(body.today_temperature_max), String(body.today_temperature_max));
    });
  }
  await t.step("success by postal code and by coordinates, in another language", async () => {
    const byPostalCode = await ask({ postal_code: "10001", country_code: "US" }, "postal code");
    assert.equal(byPostalCode.city, "New York");
    const byCoordinates = await ask(
      { latitude: 51.5072, longitude: -0.1276, lang: "pt-br" },
      "coordinates",
    );
    assert.equal(byCoordinates.city, "London");
    assert.equal(byCoordinates.lang, "pt-BR");
  });
  await t.step("severe weather in the next hours, with its reason", async () => {
    // 2026-06-02T12:00Z: the next steps are 15:00Z (clouds) and 18:00Z, a thunderstorm.
    clock.advance(24 * 3_600_000);
    const body = await ask({ city_name: "New York" }, "severe");
    assert.equal(body.next_hours_severe, true);
    assert.equal(body.next_hours_severe_reason, "thunderstorm");
  });
  await t.step("late in the place's day: no today fields", async () => {
    // 2026-06-03T03:30Z is 23:30 on 2 June in New York: the next step is on 3 June there.
    clock.advance(15.5 * 3_600_000);
    const body = await ask({ city_name: "New York" }, "no today");
    assert.deepEqual(Object.keys(body).filter((key) => key.startsWith("today_")), []);
    assert.equal(typeof body.tomorrow_temperature_min, "number");
  });
  await t.step("a forecast with every step past: UPSTREAM_UNAVAILABLE", async () => {
    clock.advance(6 * 24 * 3_600_000);
    const body = await ask({ city_name: "New York" }, "past");
    assert.equal(body.error_code, "UPSTREAM_UNAVAILABLE");
  });
  await t.step("error_code INVALID_INPUT", async () => {
    const body = await ask({ postal_code: "10001" }, "INVALID_INPUT");
    assert.deepEqual(body, {
      error_code: "INVALID_INPUT",
      error_message: 'Field "country_code" is required with "postal_code"',
    });
  });
  for (const [code, respond] of UPSTREAM_FAILURES) {
    await t.step(`error_code ${code}`, async () => {
      upstream.respondWith(respond);
      const body = await ask({ city_name: "New York" }, code);
      assert.equal(body.error_code, code);
    });
  }
  upstream.respondWith(undefined);
  await t.step("error_code UPSTREAM_TIMEOUT", async () => {
    const release = upstream.hold();
    try {
      const body = await ask({ city_name: "New York" }, "timeout");
      assert.equal(body.error_code, "UPSTREAM_TIMEOUT");
    } finally {
      release();
    }
  });
  await t.step("a stale forecast", async () => {
    const stale = new TestClock();
    await using cached = await startService({
      ...upstreamUrls,
      FORECAST_CACHE_TTL_S: "60",
      WEATHER_STALE_MAX_S: "3600",
    }, { clock: stale });
    const fresh = await cached.post("/data-action/forecast", { city_name: "New York" });
    assert.equal((await assertMatchesContract(fresh, "fresh", FORECAST)).stale, false);
    stale.advance(61_000);
    upstream.respondWith(() => new Response("down", { status: 503 }));
    try {
      const response = await cached.post("/data-action/forecast", { city_name: "New York" });
      assert.equal((await assertMatchesContract(response, "stale", FORECAST)).stale, true);
    } finally {
      upstream.respondWith(undefined);
    }
  });
  await t.step("every field the contract declares was in an answer", () => {
    assert.deepEqual([...FORECAST.declared].filter((field) => !seen.has(field)), []);
  });

  const path = "/data-action/forecast";
  const httpErrors: [number, () => Promise<Response>][] = [
    [400, () => service.post(path, "{not json")],
    [405, () => fetchWithin(new URL(path, service.url))],
    [413, () => service.post(path, { city_name: "x".repeat(20_000) })],
    [
      415,
      () =>
        service.post(path, { city_name: "London" }, { headers: { "content-type": "text/plain" } }),
    ],
  ];
  for (const [status, send] of httpErrors) {
    await t.step(`HTTP ${status}`, async () => {
      const response = await send();
      assert.equal(response.status, status);
      await assertMatchesContract(response, `HTTP ${status}`, FORECAST);
    });
  }
});

Deno.test("each action's input contract lets through what the service answers, and stops what it lacks", async (t) => {
  await using upstream = startFakeOpenWeather();
  // TestClock's start: the stand-in's forecast steps are all still ahead.
  await using service = await startService({
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
  }, { clock: new TestClock() });
  const inputs: [string, Record<string, unknown>, string][] = [
    ["city", { city_name: "Tokyo", lang: "en-us" }, "Tokyo"],
    ["postal-code", { postal_code: "SW1A 1AA", country_code: "GB", units: "imperial" }, "London"],
    ["coordinates", { latitude: 51.5072, longitude: -0.1276 }, "London"],
  ];
  const actions = [
    ["get-current-weather", "/data-action/weather", WEATHER],
    ["get-weather-forecast", "/data-action/forecast", FORECAST],
  ] as const;
  for (const [stem, path, contract] of actions) {
    for (const [kind, input, city] of inputs) {
      await t.step(`${stem}-by-${kind}`, async () => {
        const { inputSchema } = read(`actions/${stem}-by-${kind}.basic-auth.json`).contract.input;
        const validateInput = ajv.compile(inputSchema);
        // Genesys checks the input first: it must pass, and the service must answer it.
        assert.ok(validateInput(input), ajv.errorsText(validateInput.errors));
        const body = await assertMatchesContract(await service.post(path, input), kind, contract);
        assert.equal(body.city, city);
        assert.equal(body.error_code, undefined);
        // Without any one of its required inputs, Genesys fails the action before it calls.
        for (const name of inputSchema.required as string[]) {
          const { [name]: _, ...rest } = input;
          assert.equal(validateInput(rest), false, `${kind} without ${name}`);
        }
      });
    }
  }
  await t.step("coordinates are numbers: a string is stopped by Genesys", () => {
    for (const [stem] of actions) {
      const { inputSchema } = read(`actions/${stem}-by-coordinates.basic-auth.json`).contract.input;
      assert.equal(ajv.validate(inputSchema, { latitude: "51.5", longitude: "-0.12" }), false);
    }
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
  }, { clock });
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
