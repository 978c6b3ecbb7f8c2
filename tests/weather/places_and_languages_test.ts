/**
 * What an Architect flow has, through real HTTP: a postal code from the
 * keypad, coordinates from a CRM, `Call.Language` as `lang`; and the outputs
 * it branches on and speaks. The OpenWeatherMap stand-in records every query
 * it receives.
 */

import assert from "node:assert/strict";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { startService, WITHOUT_UPSTREAM_PROTECTION } from "../support/service.ts";

const WEATHER = "/data-action/weather";

async function withService(
  env: Record<string, string>,
  run: (
    ask: (body: unknown) => Promise<Record<string, unknown>>,
    upstream: ReturnType<typeof startFakeOpenWeather>,
  ) => Promise<void>,
) {
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    // Caching on (the default TTL), so that sharing an entry shows as one upstream call.
    ...WITHOUT_UPSTREAM_PROTECTION,
    WEATHER_CACHE_TTL_S: "600",
    OPENWEATHER_BASE_URL: upstream.url.href,
    ...env,
  });
  const ask = async (body: unknown) => {
    const response = await service.post(WEATHER, body);
    assert.equal(response.status, 200);
    return await response.json();
  };
  await run(ask, upstream);
}

Deno.test("a place is a city, a postal code or coordinates, each its own query and key space", async (t) => {
  await withService({}, async (ask, upstream) => {
    await t.step("a postal code from a keypad is OpenWeatherMap's zip search", async () => {
      const answer = await ask({ postal_code: " sw1a 1aa ", country_code: "gb" });
      assert.equal(answer.city, "London");
      const sent = upstream.requests.at(-1)!;
      assert.equal(sent.searchParams.get("zip"), "SW1A 1AA,GB");
      assert.equal(sent.searchParams.has("q"), false);
    });

    await t.step(
      "an unknown postal code is CITY_NOT_FOUND, a 200 the flow can branch on",
      async () => {
        const answer = await ask({ postal_code: "99999", country_code: "US" });
        assert.equal(answer.error_code, "CITY_NOT_FOUND");
        assert.equal(upstream.requests.at(-1)!.searchParams.get("zip"), "99999,US");
      },
    );

    await t.step("coordinates are rounded to 2 decimals for the query", async () => {
      const answer = await ask({ latitude: 51.50853, longitude: -0.12574 });
      assert.equal(answer.city, "London");
      const sent = upstream.requests.at(-1)!;
      assert.equal(sent.searchParams.get("lat"), "51.51");
      assert.equal(sent.searchParams.get("lon"), "-0.13");
      assert.equal(sent.searchParams.has("q"), false);
    });

    await t.step("neighbours, as numbers or strings, share that entry", async () => {
      const before = upstream.requests.length;
      const answer = await ask({ latitude: "51.5071", longitude: " -0.1281" });
      assert.equal(answer.city, "London");
      assert.equal(upstream.requests.length, before, "answered from the cache");
    });

    await t.step("a city named like a postal code is another key and another query", async () => {
      const byPostalCode = await ask({ postal_code: "10001", country_code: "US" });
      assert.equal(byPostalCode.city, "New York");
      const byName = await ask({ city_name: "10001", country_code: "US" });
      assert.equal(byName.error_code, "CITY_NOT_FOUND");
      const [zip, name] = upstream.requests.slice(-2);
      assert.equal(zip!.searchParams.get("zip"), "10001,US");
      assert.equal(name!.searchParams.get("q"), "10001,US");
    });

    await t.step("a request naming two places reaches no upstream", async () => {
      const before = upstream.requests.length;
      const answer = await ask({
        city_name: "London",
        postal_code: "SW1A 1AA",
        country_code: "GB",
      });
      assert.deepEqual(Object.keys(answer).sort(), ["error_code", "error_message"]);
      assert.equal(answer.error_code, "INVALID_INPUT");
      assert.match(String(answer.error_message), /"city_name" and "postal_code"/);
      assert.equal(upstream.requests.length, before);
    });
  });
});

Deno.test("city_name's limit counts the name as it is sent on, and text must be well-formed", async (t) => {
  await withService({}, async (ask, upstream) => {
    await t.step("100 characters that NFKC makes 1,800 are too long, and never sent", async () => {
      // U+FDFA, one character, is 18 once NFKC-normalised.
      const answer = await ask({ city_name: "\ufdfa".repeat(100) });
      assert.deepEqual(answer, {
        error_code: "INVALID_INPUT",
        error_message: 'Field "city_name" must be at most 100 characters',
      });
      assert.equal(upstream.requests.length, 0);
    });

    await t.step("a lone surrogate is refused, not sent on as U+FFFD", async () => {
      // JSON's \ud800 escape: JSON.parse makes a string that is not well-formed UTF-16.
      for (const name of ["Lon\\ud800don", "Lon\\udfffdon", "\\udc00London\\ud83c"]) {
        const response = await ask(`{"city_name":"${name}"}`);
        assert.deepEqual(response, {
          error_code: "INVALID_INPUT",
          error_message: 'Field "city_name" must be well-formed Unicode text (no lone surrogates)',
        });
      }
      assert.equal(upstream.requests.length, 0);
    });

    await t.step(
      "a name over 100 characters as sent, within them once normalised, is asked",
      async () => {
        const name = `Sa\u0303o${" ".repeat(96)}Paulo`;
        assert.equal(name.length, 105);
        const answer = await ask({ city_name: name });
        assert.equal(answer.city, "São Paulo");
        assert.equal(upstream.requests.at(-1)!.searchParams.get("q"), "São Paulo");
      },
    );
  });
});

Deno.test("lang takes what Architect gives and says what language the answer is in", async (t) => {
  await withService({}, async (ask, upstream) => {
    await t.step("Call.Language en-us asks in English; en-gb shares its entry", async () => {
      const us = await ask({ city_name: "London", lang: "en-us" });
      assert.equal(us.lang, "en");
      assert.equal(upstream.requests.at(-1)!.searchParams.get("lang"), "en");
      const before = upstream.requests.length;
      const gb = await ask({ city_name: "London", lang: "EN-GB" });
      assert.equal(gb.summary, us.summary);
      assert.equal(upstream.requests.length, before);
    });

    await t.step("pt-br is OpenWeatherMap's pt_br, spoken in Portuguese", async () => {
      const answer = await ask({ city_name: "London", lang: "pt-br" });
      assert.equal(upstream.requests.at(-1)!.searchParams.get("lang"), "pt_br");
      assert.equal(answer.lang, "pt-BR");
      assert.equal(answer.condition, "Chuva leve");
      assert.equal(answer.summary, "London: Chuva leve e 11 graus Celsius.");
    });

    await t.step("es-us is Spanish, with ICU's unit words", async () => {
      const answer = await ask({ city_name: "London", lang: "es-us", units: "imperial" });
      assert.equal(upstream.requests.at(-1)!.searchParams.get("lang"), "es");
      assert.equal(answer.lang, "es");
      assert.equal(answer.temperature_rounded, 52);
      assert.equal(answer.summary, "London: Lluvia ligera y 52 grados Fahrenheit.");
    });

    await t.step(
      "codes OpenWeatherMap spells its own way: ko-kr is kr, zh-tw is zh_tw",
      async () => {
        await ask({ city_name: "London", lang: "ko-kr" });
        assert.equal(upstream.requests.at(-1)!.searchParams.get("lang"), "kr");
        const traditional = await ask({ city_name: "London", lang: "zh-tw" });
        assert.equal(upstream.requests.at(-1)!.searchParams.get("lang"), "zh_tw");
        assert.equal(traditional.lang, "zh-TW");
      },
    );

    await t.step("a tag OpenWeatherMap does not offer is English, and says so", async () => {
      const answer = await ask({ city_name: "London", lang: "fil-ph" });
      assert.equal(answer.lang, "en");
      assert.equal(answer.condition, "Light rain");
    });
  });
});

Deno.test("severe weather and the wind threshold, compared in m/s whatever the units", async (t) => {
  // London blows at 4.12 m/s (9.22 mph): severe at a threshold of 4, not at the default gale.
  await withService({ SEVERE_WIND_METRES_PER_SECOND: "4" }, async (ask, upstream) => {
    await t.step("metric", async () => {
      const answer = await ask({ city_name: "London" });
      assert.equal(answer.severe, true);
      assert.equal(answer.severe_reason, "high_wind");
    });
    await t.step("imperial: 9.22 mph is 4.12 m/s", async () => {
      const answer = await ask({ city_name: "London", units: "imperial" });
      assert.equal(answer.wind_speed, 9.22);
      assert.equal(answer.severe_reason, "high_wind");
    });
    await t.step("a thunderstorm is severe whatever the wind", async () => {
      upstream.respondWith(() =>
        Response.json({
          weather: [{ id: 211, description: "thunderstorm" }],
          main: { temp: 18.4 },
          wind: { speed: 1 },
          name: "Leeds",
        })
      );
      const answer = await ask({ city_name: "Leeds" });
      assert.equal(answer.condition_group, "thunderstorm");
      assert.equal(answer.severe_reason, "thunderstorm");
      assert.equal(answer.temperature_rounded, 18);
    });
  });
  await withService({}, async (ask) => {
    await t.step("at the default, gale force, London's breeze is not severe", async () => {
      const answer = await ask({ city_name: "London" });
      assert.equal(answer.severe, false);
      assert.equal("severe_reason" in answer, false);
    });
  });
});
