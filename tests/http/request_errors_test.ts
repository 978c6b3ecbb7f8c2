import assert from "node:assert/strict";
import { RequestError } from "../../src/http/errors.ts";
import { MAX_REQUEST_BODY_BYTES, readJsonBody } from "../../src/http/request_body.ts";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { startService } from "../support/service.ts";
import { fetchWithin } from "../support/wait.ts";

const WEATHER = "/data-action/weather";

async function assertError(response: Response, status: number, code: string, message?: RegExp) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  const body = await response.json();
  assert.deepEqual(Object.keys(body).sort(), ["error_code", "error_message"]);
  assert.equal(body.error_code, code);
  if (message) assert.match(body.error_message, message);
}

/** Bodies that are not a JSON object: protocol errors, and the message that names the problem. */
const MALFORMED_BODIES: [string, string, RegExp][] = [
  ["malformed JSON", '{"city_name": "London"', /^Request body is not valid JSON$/],
  ["an empty body", "", /^Request body is empty$/],
  ["a JSON array", '[{"city_name":"London"}]', /^Request body must be a JSON object$/],
  ["a JSON string", '"London"', /^Request body must be a JSON object$/],
  ["JSON null", "null", /^Request body must be a JSON object$/],
];

/**
 * JSON objects whose values cannot be used: a voice flow must see why, so
 * each is a 200 with INVALID_INPUT, and the message names the field.
 */
const UNUSABLE_BODIES: [string, string, RegExp][] = [
  ["no place", '{"city":"London"}', /^Give a place: "city_name", "postal_code" with/],
  ["a blank city_name", '{"city_name":"   "}', /^Give a place: /],
  ["a null city_name", '{"city_name":null}', /^Give a place: /],
  ["a numeric city_name", '{"city_name":42}', /^Field "city_name" must be a string$/],
  [
    "an object city_name",
    '{"city_name":{"name":"London"}}',
    /^Field "city_name" must be a string$/,
  ],
  [
    "a city_name over 100 characters",
    JSON.stringify({ city_name: "x".repeat(101) }),
    /^Field "city_name" must be at most 100 characters$/,
  ],
  [
    "a newline in city_name",
    '{"city_name":"Lon\\ndon"}',
    /^Field "city_name" must not contain control characters$/,
  ],
  [
    "a NUL in city_name",
    '{"city_name":"Lon\\u0000don"}',
    /^Field "city_name" must not contain control characters$/,
  ],
  [
    "a C1 control in city_name",
    '{"city_name":"Lon\\u0085don"}',
    /^Field "city_name" must not contain control characters$/,
  ],
  [
    "a three-letter country_code",
    '{"city_name":"London","country_code":"GBR"}',
    /^Field "country_code" must be a two-letter ISO 3166-1 country code/,
  ],
  [
    "an unknown country_code",
    '{"city_name":"London","country_code":"QQ"}',
    /^Field "country_code" must be a two-letter ISO 3166-1 country code/,
  ],
  [
    "a numeric country_code",
    '{"city_name":"London","country_code":44}',
    /^Field "country_code" must be a string$/,
  ],
  [
    "a postal code without its country",
    '{"postal_code":"10001"}',
    /^Field "country_code" is required with "postal_code"$/,
  ],
  [
    "a postal code as a number",
    '{"postal_code":2134,"country_code":"US"}',
    /^Field "postal_code" must be a string$/,
  ],
  [
    "a latitude out of range",
    '{"latitude":91,"longitude":0}',
    /^Field "latitude" must be a number from -90 to 90$/,
  ],
  [
    "a longitude that is text",
    '{"latitude":"51.5","longitude":"west"}',
    /^Field "longitude" must be a number from -180 to 180$/,
  ],
  [
    "a latitude without a longitude",
    '{"latitude":51.5}',
    /^Field "longitude" is required with "latitude"$/,
  ],
  [
    "two kinds of place",
    '{"city_name":"London","latitude":51.5,"longitude":0}',
    /^Give only one place, not both "city_name" and coordinates/,
  ],
  [
    "unknown units",
    '{"city_name":"London","units":"kelvin"}',
    /^Field "units" must be one of "metric", "imperial", "standard"$/,
  ],
  ["boolean units", '{"city_name":"London","units":true}', /^Field "units" must be a string$/],
  ["a numeric lang", '{"city_name":"London","lang":7}', /^Field "lang" must be a string$/],
];

Deno.test("POST /data-action/weather rejects bad requests with typed errors", async (t) => {
  const upstream = startFakeOpenWeather();
  const service = await startService({ OPENWEATHER_BASE_URL: upstream.url.href });
  try {
    for (const [name, body, message] of MALFORMED_BODIES) {
      await t.step(`400 INVALID_BODY for ${name}`, async () => {
        await assertError(await service.post(WEATHER, body), 400, "INVALID_BODY", message);
      });
    }

    for (const [name, body, message] of UNUSABLE_BODIES) {
      await t.step(`200 INVALID_INPUT for ${name}`, async () => {
        await assertError(await service.post(WEATHER, body), 200, "INVALID_INPUT", message);
      });
    }

    await t.step("400 INVALID_BODY for bytes that are not UTF-8", async () => {
      const bytes = new Uint8Array([
        ...new TextEncoder().encode('{"city_name":"'),
        0xff,
        0xfe,
        0x22,
        0x7d,
      ]);
      const response = await fetchWithin(new URL(WEATHER, service.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: bytes,
      });
      await assertError(
        response,
        400,
        "INVALID_BODY",
        /^Request body must be UTF-8 encoded JSON$/,
      );
    });

    await t.step("400 INVALID_BODY for bytes that are not UTF-8, sent chunked", async () => {
      const bytes = new Uint8Array([
        ...new TextEncoder().encode('{"city_name":"'),
        0xc3,
        0x22,
        0x7d,
      ]);
      const response = await fetchWithin(new URL(WEATHER, service.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: ReadableStream.from([bytes]),
      });
      await assertError(
        response,
        400,
        "INVALID_BODY",
        /^Request body must be UTF-8 encoded JSON$/,
      );
    });

    await t.step("bytes that are not UTF-8 outside any string are refused as such", async () => {
      const response = await fetchWithin(new URL(WEATHER, service.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      });
      await assertError(
        response,
        400,
        "INVALID_BODY",
        /^Request body must be UTF-8 encoded JSON$/,
      );
    });

    await t.step("no bad request ever reached the upstream", () => {
      assert.equal(upstream.requests.length, 0);
    });

    await t.step("a language nobody offers is answered in English, never refused", async () => {
      const response = await service.post(WEATHER, { city_name: "London", lang: "xx" });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.lang, "en");
      assert.equal(body.condition, "Light rain");
    });

    await t.step("U+FFFD, raw in UTF-8 or escaped, is a character like any other", async () => {
      for (
        const body of [
          '{"city_name":"London","extra":"\uFFFD"}',
          '{"city_name":"London","extra":"\\ufffd"}',
          '{"city_name":"London","extra":[{"\uFFFD":1}]}',
        ]
      ) {
        const response = await service.post(WEATHER, body);
        assert.equal(response.status, 200, body);
        assert.equal((await response.json()).city, "London");
      }
      const chunked = await fetchWithin(new URL(WEATHER, service.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: ReadableStream.from([new TextEncoder().encode('{"city_name":"Lond\\ufffdon"}')]),
      });
      assert.equal(chunked.status, 200);
      assert.equal((await chunked.json()).error_code, "CITY_NOT_FOUND");
      assert.equal(upstream.requests.at(-1)?.searchParams.get("q"), "Lond\uFFFDon");
    });

    await t.step("413 for a body over 16 KiB that declares its length", async () => {
      const body = JSON.stringify({
        city_name: "London",
        padding: "x".repeat(MAX_REQUEST_BODY_BYTES),
      });
      await assertError(await service.post(WEATHER, body), 413, "PAYLOAD_TOO_LARGE", /16384 bytes/);
    });

    await t.step("413 for a chunked body over 16 KiB, as Genesys sends bodies", async () => {
      const chunk = new TextEncoder().encode(" ".repeat(1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          // 64 KiB at most: enough to cross the limit, bounded if the server kept reading.
          if (sent >= 64) return controller.close();
          sent++;
          controller.enqueue(chunk);
        },
      });
      const response = await fetchWithin(new URL(WEATHER, service.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await assertError(response, 413, "PAYLOAD_TOO_LARGE");
    });

    await t.step("a chunked body within the limit is read whole", async () => {
      const json = JSON.stringify({ city_name: "London" });
      const body = ReadableStream.from(
        [json.slice(0, 5), json.slice(5)].map((part) => new TextEncoder().encode(part)),
      );
      const response = await fetchWithin(new URL(WEATHER, service.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      assert.equal(response.status, 200);
      assert.equal((await response.json()).city, "London");
    });

    await t.step("exactly 16 KiB is still accepted", async () => {
      const json = JSON.stringify({ city_name: "London" });
      const body = json + " ".repeat(MAX_REQUEST_BODY_BYTES - json.length);
      const response = await service.post(WEATHER, body);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });

    for (
      const contentType of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
      ]
    ) {
      await t.step(`415 for Content-Type ${contentType}`, async () => {
        const response = await service.post(WEATHER, { city_name: "London" }, {
          headers: { "content-type": contentType },
        });
        await assertError(response, 415, "UNSUPPORTED_MEDIA_TYPE", /application\/json/);
      });
    }

    await t.step("415 without a Content-Type (a cross-site form could send that)", async () => {
      const response = await service.post(WEATHER, "", {
        headers: {},
        body: new TextEncoder().encode(JSON.stringify({ city_name: "London" })),
      });
      await assertError(response, 415, "UNSUPPORTED_MEDIA_TYPE", /application\/json/);
    });

    await t.step("JSON content types with parameters or a +json suffix are accepted", async () => {
      for (
        const contentType of [
          "application/json; charset=utf-8",
          "Application/JSON",
          "application/vnd.genesys+json",
        ]
      ) {
        const response = await service.post(WEATHER, { city_name: "London" }, {
          headers: { "content-type": contentType },
        });
        assert.equal(response.status, 200, contentType);
        await response.body?.cancel();
      }
    });

    await t.step("405 with Allow for a wrong method", async () => {
      const get = await fetchWithin(new URL(WEATHER, service.url));
      assert.equal(get.headers.get("allow"), "POST");
      await assertError(get, 405, "METHOD_NOT_ALLOWED");
      const post = await service.post("/healthz", {});
      assert.equal(post.headers.get("allow"), "GET, HEAD");
      await assertError(post, 405, "METHOD_NOT_ALLOWED");
    });

    await t.step("404 JSON for an unknown path", async () => {
      await assertError(
        await fetchWithin(new URL("/data-action/weather/extra", service.url)),
        404,
        "NOT_FOUND",
      );
      await assertError(await fetchWithin(new URL("/", service.url)), 404, "NOT_FOUND");
    });

    await t.step("GET /healthz answers 200 while the process is up", async () => {
      const response = await fetchWithin(new URL("/healthz", service.url));
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: "ok" });
    });
  } finally {
    await service.close();
    await upstream.close();
  }
});

Deno.test("readJsonBody() holds a body to the limit even when its Content-Length understates it", async () => {
  // Over HTTP the framing ends a body at its declared length; a Request made in
  // process has no framing, so the length read must still be checked.
  const request = new Request("http://localhost/data-action/weather", {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": "20" },
    body: JSON.stringify({ city_name: "x".repeat(MAX_REQUEST_BODY_BYTES) }),
  });
  await assert.rejects(
    readJsonBody(request, {}),
    (error) => error instanceof RequestError && error.code === "PAYLOAD_TOO_LARGE",
  );
});
