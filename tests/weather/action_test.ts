import assert from "node:assert/strict";
import { UPSTREAM_FAILURES } from "../../src/weather/contract.ts";
import {
  closedPortUrl,
  ERROR_BODIES,
  startFakeOpenWeather,
  startRawHttpServer,
  TEST_API_KEY,
} from "../support/fake_openweather.ts";
import { startService, WITHOUT_UPSTREAM_PROTECTION } from "../support/service.ts";
import { LONDON_ANSWER } from "../../scripts/london_answer.ts";

const WEATHER = "/data-action/weather";

function assertJsonHeaders(response: Response): void {
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
}

function assertNoNulls(value: unknown, path = "body"): void {
  assert.notEqual(value, null, `${path} is null`);
  if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) assertNoNulls(inner, `${path}.${key}`);
  }
}

Deno.test("POST /data-action/weather answers with the current weather", async (t) => {
  const upstream = startFakeOpenWeather();
  const service = await startService({
    ...WITHOUT_UPSTREAM_PROTECTION,
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  try {
    await t.step("metric by default, every field named as the contract says", async () => {
      const response = await service.post(WEATHER, { city_name: "London" });
      assert.equal(response.status, 200);
      assertJsonHeaders(response);
      const body = await response.json();
      assert.deepEqual(body, {
        temperature: 11.05,
        feels_like: 10.35,
        temperature_min: 10,
        temperature_max: 12.22,
        temperature_unit: "celsius",
        condition: "Light rain",
        condition_code: 500,
        humidity: 81,
        pressure: 1012,
        wind_speed: 4.12,
        wind_speed_unit: "meters per second",
        wind_direction: 80,
        cloudiness: 90,
        visibility: 10000,
        city: "London",
        country: "GB",
        units: "metric",
        observed_at: "2025-11-24T16:00:00.000Z",
        stale: false,
        condition_group: "rain",
        severe: false,
        temperature_rounded: 11,
        summary: "London: Light rain, 11 degrees Celsius.",
        lang: "en",
      });
      assertNoNulls(body);
      assert.deepEqual(body, LONDON_ANSWER, "the benchmark's floors answer the same bytes");
      const sent = upstream.requests.at(-1)!;
      assert.equal(sent.searchParams.get("q"), "London");
      assert.equal(sent.searchParams.get("units"), "metric");
      assert.equal(sent.searchParams.get("appid"), TEST_API_KEY);
      assert.equal(sent.searchParams.get("lang"), "en");
    });

    await t.step("imperial and standard units pass through with their unit names", async () => {
      const imperial =
        await (await service.post(WEATHER, { city_name: "London", units: "imperial" })).json();
      assert.equal(imperial.temperature, 51.89);
      assert.equal(imperial.temperature_unit, "fahrenheit");
      assert.equal(imperial.wind_speed, 9.22);
      assert.equal(imperial.wind_speed_unit, "miles per hour");
      assert.equal(imperial.units, "imperial");
      const standard =
        await (await service.post(WEATHER, { city_name: "London", units: "standard" })).json();
      assert.equal(standard.temperature, 284.2);
      assert.equal(standard.temperature_unit, "kelvin");
      assert.equal(standard.units, "standard");
    });

    await t.step("country_code and lang are normalised and sent upstream", async () => {
      const response = await service.post(WEATHER, {
        city_name: "  London ",
        country_code: "gb",
        lang: "DE",
        units: " Metric ",
      });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.condition, "Leichter Regen");
      const sent = upstream.requests.at(-1)!;
      assert.equal(sent.searchParams.get("q"), "London,GB");
      assert.equal(sent.searchParams.get("lang"), "de");
      assert.equal(sent.searchParams.get("units"), "metric");
    });

    await t.step("unicode city names and descriptions survive the round trip", async () => {
      const saoPaulo = await service.post(WEATHER, { city_name: "São Paulo", lang: "ru" });
      assert.equal(saoPaulo.status, 200);
      const body = await saoPaulo.json();
      assert.equal(body.city, "São Paulo");
      assert.equal(body.condition, "Небольшой дождь");
      assert.equal(upstream.requests.at(-1)!.searchParams.get("q"), "São Paulo");
      const tokyo = await (await service.post(WEATHER, { city_name: "東京" })).json();
      assert.equal(tokyo.city, "Tokyo");
    });

    await t.step("blank or null optional fields mean the default", async () => {
      const response = await service.post(WEATHER, {
        city_name: "London",
        country_code: "",
        units: "  ",
        lang: null,
      });
      assert.equal(response.status, 200);
      assert.equal((await response.json()).units, "metric");
      assert.equal(upstream.requests.at(-1)!.searchParams.get("q"), "London");
    });

    await t.step("fields OpenWeatherMap leaves out are absent, never null or zero", async () => {
      upstream.respondWith(() =>
        Response.json({ weather: [{ description: "clear sky" }], main: { temp: 20.5 }, cod: 200 })
      );
      const response = await service.post(WEATHER, { city_name: "London" });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), {
        temperature: 20.5,
        temperature_unit: "celsius",
        condition: "Clear sky",
        wind_speed_unit: "meters per second",
        units: "metric",
        stale: false,
        severe: false,
        temperature_rounded: 21,
        summary: "Clear sky, 21 degrees Celsius.",
        lang: "en",
      });
      upstream.respondWith(undefined);
    });

    await t.step("the correlation id from Genesys is echoed, or one is made up", async () => {
      const given = await service.post(WEATHER, { city_name: "London" }, {
        headers: { "content-type": "application/json", "ININ-Correlation-Id": "abc-123" },
      });
      await given.body?.cancel();
      assert.equal(given.headers.get("inin-correlation-id"), "abc-123");
      const made = await service.post(WEATHER, { city_name: "London" });
      await made.body?.cancel();
      assert.match(made.headers.get("inin-correlation-id")!, /^[0-9a-f-]{36}$/);
      const accessLine = service.logLines.map((line) => JSON.parse(line))
        .find((entry) => entry.msg === "request" && entry.correlation_id === "abc-123");
      assert.equal(accessLine?.status, 200);
      assert.equal(accessLine?.path, WEATHER);
    });
  } finally {
    await service.close();
    await upstream.close();
  }
});

/** Every way the upstream can fail, and the error_code the flow must see for it. */
const UPSTREAM_FAILURE_CASES: {
  name: string;
  code: keyof typeof UPSTREAM_FAILURES;
  respond: () => Response;
}[] = [
  {
    name: "404 city not found",
    code: "CITY_NOT_FOUND",
    respond: () => Response.json(ERROR_BODIES[404], { status: 404 }),
  },
  {
    name: "400 nothing to geocode",
    code: "CITY_NOT_FOUND",
    respond: () => Response.json(ERROR_BODIES[400], { status: 400 }),
  },
  {
    name: "401 invalid API key",
    code: "UPSTREAM_AUTH_FAILED",
    respond: () => Response.json(ERROR_BODIES[401], { status: 401 }),
  },
  {
    name: "429 rate limited",
    code: "UPSTREAM_RATE_LIMITED",
    respond: () => Response.json(ERROR_BODIES[429], { status: 429 }),
  },
  {
    name: "500 server error",
    code: "UPSTREAM_UNAVAILABLE",
    respond: () => new Response("Internal Server Error", { status: 500 }),
  },
  {
    name: "503 behind a proxy",
    code: "UPSTREAM_UNAVAILABLE",
    respond: () => new Response("<html>503</html>", { status: 503 }),
  },
  {
    name: "a redirect",
    code: "UPSTREAM_UNAVAILABLE",
    respond: () =>
      new Response(null, { status: 302, headers: { location: "http://127.0.0.1:1/" } }),
  },
  {
    name: "200 with a body that is not JSON",
    code: "UPSTREAM_UNAVAILABLE",
    respond: () => new Response("<html>oops</html>", { status: 200 }),
  },
  {
    name: "200 with JSON of the wrong shape",
    code: "UPSTREAM_UNAVAILABLE",
    respond: () => Response.json({ main: { temp: "warm" }, weather: [] }),
  },
  {
    name: "200 whose cod says 404",
    code: "CITY_NOT_FOUND",
    respond: () => Response.json(ERROR_BODIES[404]),
  },
  {
    name: "200 with an oversized body",
    code: "UPSTREAM_UNAVAILABLE",
    respond: () => new Response("[" + "1,".repeat(200_000) + "1]"),
  },
];

Deno.test("POST /data-action/weather turns upstream trouble into error_code answers", async (t) => {
  const upstream = startFakeOpenWeather();
  const service = await startService({
    ...WITHOUT_UPSTREAM_PROTECTION,
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_TIMEOUT_MS: "200",
  });
  const assertFailure = async (response: Response, code: keyof typeof UPSTREAM_FAILURES) => {
    assert.equal(response.status, 200);
    assertJsonHeaders(response);
    assert.deepEqual(await response.json(), {
      error_code: code,
      error_message: UPSTREAM_FAILURES[code].message,
    });
  };
  try {
    for (const failure of UPSTREAM_FAILURE_CASES) {
      await t.step(`${failure.name} → ${failure.code}`, async () => {
        upstream.respondWith(failure.respond);
        await assertFailure(await service.post(WEATHER, { city_name: "London" }), failure.code);
      });
    }
    upstream.respondWith(undefined);

    await t.step("an unknown city, as the real upstream answers it → CITY_NOT_FOUND", async () => {
      await assertFailure(await service.post(WEATHER, { city_name: "Atlantis" }), "CITY_NOT_FOUND");
    });

    await t.step("no answer within OPENWEATHER_TIMEOUT_MS → UPSTREAM_TIMEOUT", async () => {
      const release = upstream.hold();
      try {
        await assertFailure(
          await service.post(WEATHER, { city_name: "London" }),
          "UPSTREAM_TIMEOUT",
        );
      } finally {
        release();
      }
    });

    await t.step("headers in time but a body that stalls → UPSTREAM_TIMEOUT", async () => {
      const { promise: never, resolve: unblock } = Promise.withResolvers<void>();
      upstream.respondWith(() =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode('{"main":'));
              await never;
              controller.close();
            },
          }),
        )
      );
      try {
        await assertFailure(
          await service.post(WEATHER, { city_name: "London" }),
          "UPSTREAM_TIMEOUT",
        );
      } finally {
        unblock();
        upstream.respondWith(undefined);
      }
    });

    await t.step(
      "the wrong API key, as the real upstream answers it → UPSTREAM_AUTH_FAILED",
      async () => {
        const wrongKey = await startService({
          OPENWEATHER_BASE_URL: upstream.url.href,
          OPENWEATHER_API_KEY: "not-the-right-key-at-all",
        });
        try {
          await assertFailure(
            await wrongKey.post(WEATHER, { city_name: "London" }),
            "UPSTREAM_AUTH_FAILED",
          );
        } finally {
          await wrongKey.close();
        }
      },
    );
  } finally {
    await service.close();
    await upstream.close();
  }
});

Deno.test("POST /data-action/weather reports network failures without leaking the API key", async (t) => {
  const truncated = startRawHttpServer(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"weather":[{"desc',
  );
  // Each cause must reach the log, so an operator can act on it; the key must not.
  // (The wording is fetch's here; through undici, used while tracing may be on, it is
  // ECONNREFUSED, ENOTFOUND and "other side closed".)
  const cases = [
    {
      name: "connection refused",
      baseUrl: closedPortUrl().href,
      logged: /http:\/\/127\.0\.0\.1:\d+\/.*Connection refused|ECONNREFUSED 127\.0\.0\.1/,
    },
    {
      name: "an unresolvable host",
      baseUrl: "http://weather.invalid/data/2.5/weather",
      logged: /http:\/\/weather\.invalid\/.*dns error|ENOTFOUND weather\.invalid/,
    },
    {
      name: "a truncated body",
      baseUrl: truncated.url.href,
      logged: /error reading a body from connection|other side closed/,
    },
  ];
  try {
    for (const { name, baseUrl, logged } of cases) {
      await t.step(
        `${name} → UPSTREAM_UNAVAILABLE, and the key is in no response or log line`,
        async () => {
          const service = await startService({ OPENWEATHER_BASE_URL: baseUrl });
          try {
            const response = await service.post(WEATHER, { city_name: "London" });
            assert.equal(response.status, 200);
            const text = await response.text();
            assert.deepEqual(JSON.parse(text), {
              error_code: "UPSTREAM_UNAVAILABLE",
              error_message: UPSTREAM_FAILURES.UPSTREAM_UNAVAILABLE.message,
            });
            assert.ok(!text.includes(TEST_API_KEY));
            const log = service.logLines.join("\n");
            assert.match(log, /"error_code":"UPSTREAM_UNAVAILABLE"/);
            assert.match(log, logged);
            assert.ok(!log.includes(TEST_API_KEY), `API key leaked into the log:\n${log}`);
          } finally {
            await service.close();
          }
        },
      );
    }
  } finally {
    await truncated.close();
  }
});

Deno.test("city_name is normalised once: the cache key and the upstream query agree", async (t) => {
  const upstream = startFakeOpenWeather();
  const upstreamCities = () => upstream.requests.map((url) => url.searchParams.get("q"));
  try {
    await t.step("OpenWeatherMap is asked for the normalised name (no cache)", async () => {
      const service = await startService({
        OPENWEATHER_BASE_URL: upstream.url.href,
        ...WITHOUT_UPSTREAM_PROTECTION,
      });
      try {
        upstream.requests.length = 0;
        const newYork = await service.post(WEATHER, { city_name: "New\u00a0York" });
        assert.equal(newYork.status, 200);
        assert.equal((await newYork.json()).city, "New York");
        const kelvin = await service.post(WEATHER, { city_name: " To\u212Ayo\u3000" });
        assert.equal(kelvin.status, 200);
        assert.equal((await kelvin.json()).city, "Tokyo");
        // NFKC turns the Kelvin sign into "K"; OpenWeatherMap ignores case, as the key does.
        assert.deepEqual(upstreamCities(), ["New York", "ToKyo"]);
      } finally {
        await service.close();
      }
    });
    await t.step("spellings that share a cache entry are one upstream query", async () => {
      const service = await startService({ OPENWEATHER_BASE_URL: upstream.url.href });
      try {
        upstream.requests.length = 0;
        for (
          const city_name of ["Tokyo", "To\u212Ayo", "New York", "New\u00a0York", "new   york"]
        ) {
          const response = await service.post(WEATHER, { city_name });
          assert.equal(response.status, 200);
          const body = await response.json();
          assert.equal(
            body.error_code,
            undefined,
            `${JSON.stringify(city_name)}: ${body.error_code}`,
          );
        }
        assert.deepEqual(upstreamCities(), ["Tokyo", "New York"]);
      } finally {
        await service.close();
      }
    });
  } finally {
    await upstream.close();
  }
});
