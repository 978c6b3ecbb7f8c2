/**
 * Property tests: whatever a caller sends, and whatever OpenWeatherMap
 * answers, the service replies with a well-formed JSON answer below 500 and
 * never echoes the API key.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { WeatherReportSchema } from "../../tools/contract_schema.ts";
import { createLogger } from "../../src/process/log.ts";
import { createService } from "../../src/service.ts";
import { anyScalarValue } from "../support/arbitraries.ts";
import { startFakeOpenWeather, TEST_API_KEY } from "../support/fake_openweather.ts";
import { testConfig, WITHOUT_UPSTREAM_PROTECTION } from "../support/service.ts";

const RUNS = 300;

async function serviceAgainst(upstreamUrl: URL) {
  const logLines: string[] = [];
  const config = testConfig({
    ...WITHOUT_UPSTREAM_PROTECTION,
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "100000",
    OPENWEATHER_BASE_URL: upstreamUrl.href,
    OPENWEATHER_TIMEOUT_MS: "1000",
  });
  const service = await createService(
    config,
    createLogger({ level: "debug", secrets: [TEST_API_KEY], write: (line) => logLines.push(line) }),
  );
  return { handler: service.handler, logLines, close: () => service.close() };
}

/** Every answer is JSON of one of the documented shapes, and never a 5xx. */
async function assertWellFormed(response: Response): Promise<void> {
  assert.ok(response.status < 500, `status ${response.status}`);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  const text = await response.text();
  assert.ok(!text.includes(TEST_API_KEY));
  const body = JSON.parse(text);
  if (response.status === 200 && !("error_code" in body)) {
    WeatherReportSchema.strict().parse(body);
  } else {
    assert.equal(typeof body.error_code, "string");
    assert.equal(typeof body.error_message, "string");
  }
}

const weatherRequest = (body: BodyInit, contentType: string | undefined) =>
  new Request("http://localhost/data-action/weather", {
    method: "POST",
    headers: contentType === undefined ? {} : { "content-type": contentType },
    body,
  });

/** Request bodies close to valid ones, where the interesting mistakes are. */
const nearlyValidBody = fc.record({
  city_name: fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 120 }),
    fc.string({ unit: anyScalarValue }),
    fc.constantFrom("London", " london ", "São Paulo", "東京", ""),
    fc.anything(),
  ),
  country_code: fc.oneof(
    fc.constantFrom("GB", "gb", "GBR", "", "ZZ", "1A"),
    fc.string({ maxLength: 4 }),
    fc.anything(),
  ),
  units: fc.oneof(fc.constantFrom("metric", "IMPERIAL", "standard", "kelvin", ""), fc.anything()),
  lang: fc.oneof(fc.constantFrom("en", "pt_br", "ZH_CN", "xx", ""), fc.anything()),
}, { requiredKeys: [] }).map((body) => JSON.stringify(body));

Deno.test("POST /data-action/weather answers every request body below 500", async (t) => {
  const upstream = startFakeOpenWeather();
  const { handler, logLines, close } = await serviceAgainst(upstream.url);
  try {
    await t.step("JSON values of any shape", async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (value) => {
          await assertWellFormed(
            await handler(weatherRequest(JSON.stringify(value), "application/json")),
          );
        }),
        { numRuns: RUNS },
      );
    });

    await t.step("objects that look almost like a valid request", async () => {
      await fc.assert(
        fc.asyncProperty(nearlyValidBody, async (body) => {
          await assertWellFormed(await handler(weatherRequest(body, "application/json")));
        }),
        { numRuns: RUNS },
      );
    });

    await t.step("arbitrary bytes under arbitrary content types", async () => {
      const contentType = fc.option(
        fc.oneof(
          fc.constantFrom(
            "application/json",
            "text/plain",
            "application/json; charset=latin1",
            ";;",
            "",
          ),
          fc.string(),
        ),
        { nil: undefined },
      );
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), contentType, async (bytes, type) => {
          let request: Request;
          try {
            request = weatherRequest(bytes, type);
          } catch {
            return; // A header value fetch itself refuses to send; nothing reaches the service.
          }
          await assertWellFormed(await handler(request));
        }),
        { numRuns: RUNS },
      );
    });

    await t.step("no log line carries the API key", () => {
      assert.ok(logLines.length > 0);
      assert.ok(!logLines.join("\n").includes(TEST_API_KEY));
    });
  } finally {
    await close();
    await upstream.close();
  }
});

Deno.test("POST /data-action/weather answers every upstream body with 200", async () => {
  const upstream = startFakeOpenWeather();
  const { handler, close } = await serviceAgainst(upstream.url);
  const upstreamBody = fc.oneof(
    fc.jsonValue().map((value) => JSON.stringify(value)),
    // Bodies shaped like an observation, with any field of any type.
    fc.record({
      weather: fc.oneof(
        fc.array(
          fc.record({ id: fc.anything(), description: fc.oneof(fc.string(), fc.anything()) }, {
            requiredKeys: [],
          }),
        ),
        fc.anything(),
      ),
      main: fc.oneof(
        fc.record({ temp: fc.oneof(fc.double(), fc.anything()), humidity: fc.anything() }, {
          requiredKeys: [],
        }),
        fc.anything(),
      ),
      name: fc.anything(),
      dt: fc.oneof(fc.double(), fc.anything()),
      cod: fc.oneof(fc.constantFrom(200, "200", 404, "404", 401, 429, "500"), fc.anything()),
    }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    fc.string(),
  );
  try {
    await fc.assert(
      fc.asyncProperty(
        upstreamBody,
        fc.constantFrom(200, 200, 201, 400, 404, 500),
        async (body, status) => {
          upstream.respondWith(() =>
            new Response(body, { status, headers: { "content-type": "application/json" } })
          );
          const response = await handler(
            weatherRequest(JSON.stringify({ city_name: "London" }), "application/json"),
          );
          assert.equal(response.status, 200);
          await assertWellFormed(response);
        },
      ),
      { numRuns: RUNS },
    );
  } finally {
    await close();
    await upstream.close();
  }
});
