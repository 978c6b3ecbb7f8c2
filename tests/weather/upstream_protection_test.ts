import assert from "node:assert/strict";
import { ERROR_BODIES, startFakeOpenWeather } from "../support/fake_openweather.ts";
import { TestClock } from "../support/clock.ts";
import { type RunningService, startService, startWithStandIn } from "../support/service.ts";
import { fetchWithin, pollUntil } from "../support/wait.ts";

const WEATHER = "/data-action/weather";

async function setUp(variables: Record<string, string> = {}) {
  const started = await startWithStandIn(variables);
  const ask = async (city: string, extra: Record<string, string> = {}) => {
    const response = await started.service.post(WEATHER, { city_name: city, ...extra });
    assert.equal(response.status, 200);
    return await response.json();
  };
  return { ...started, ask };
}

function accessLines(service: RunningService) {
  return service.logLines.map((line) => JSON.parse(line)).filter((entry) =>
    entry.msg === "request"
  );
}

Deno.test("a burst of identical requests costs exactly one upstream call", async () => {
  const t = await setUp();
  try {
    const release = t.upstream.hold();
    const burst = Array.from({ length: 50 }, (_, i) => t.ask(i % 2 ? "London" : "  london "));
    await t.upstream.waitForRequests(1);
    release();
    const answers = await Promise.all(burst);
    assert.equal(t.upstream.requests.length, 1);
    assert.ok(answers.every((answer) => answer.city === "London" && answer.stale === false));
  } finally {
    await t.close();
  }
});

Deno.test("answers are cached for WEATHER_CACHE_TTL_S, per city, units and lang", async (s) => {
  // The TTL alone: refreshes ahead of expiry are refresh_ahead_test.ts's.
  const t = await setUp({ WEATHER_REFRESH_AHEAD_PERCENT: "0" });
  try {
    await s.step("a second ask within the TTL is a cache hit", async () => {
      await t.ask("London");
      await t.ask("LONDON");
      assert.equal(t.upstream.requests.length, 1);
      assert.deepEqual(accessLines(t.service).map((line) => line.cache), ["miss", "hit"]);
    });
    await s.step("other units or language are other entries", async () => {
      await t.ask("London", { units: "imperial" });
      await t.ask("London", { lang: "de" });
      assert.equal(t.upstream.requests.length, 3);
    });
    await s.step("after the TTL the upstream is asked again", async () => {
      t.clock.advance(599_000);
      await t.ask("London");
      assert.equal(t.upstream.requests.length, 3);
      t.clock.advance(1_000);
      await t.ask("London");
      assert.equal(t.upstream.requests.length, 4);
    });
    await s.step("CITY_NOT_FOUND is cached too, for WEATHER_NOT_FOUND_TTL_S", async () => {
      const before = t.upstream.requests.length;
      assert.equal((await t.ask("Atlantis")).error_code, "CITY_NOT_FOUND");
      assert.equal((await t.ask("atlantis")).error_code, "CITY_NOT_FOUND");
      assert.equal(t.upstream.requests.length, before + 1);
      t.clock.advance(300_000);
      await t.ask("Atlantis");
      assert.equal(t.upstream.requests.length, before + 2);
    });
  } finally {
    await t.close();
  }
});

Deno.test("stale-if-error: an outage is invisible for WEATHER_STALE_MAX_S", async (s) => {
  const t = await setUp();
  try {
    const fresh = await t.ask("London");
    assert.equal(fresh.stale, false);
    t.upstream.respondWith(() => new Response("Bad Gateway", { status: 502 }));

    await s.step(
      "past the TTL, a failing upstream means the last answer, marked stale",
      async () => {
        t.clock.advance(601_000);
        const answer = await t.ask("London");
        assert.deepEqual(answer, { ...fresh, stale: true });
        assert.equal(accessLines(t.service).at(-1).cache, "stale");
        assert.ok(t.service.logLines.some((line) => line.includes("Serving a stale answer")));
      },
    );
    await s.step("beyond TTL + WEATHER_STALE_MAX_S the failure shows", async () => {
      t.upstream.respondWith(() => new Response("Bad Gateway", { status: 502 }));
      t.clock.advance(3_600_000);
      assert.deepEqual(await t.ask("London"), {
        error_code: "UPSTREAM_UNAVAILABLE",
        error_message: "The weather service is not available right now",
      });
    });
  } finally {
    await t.close();
  }
});

Deno.test("an upstream timeout is served stale as well", async () => {
  const t = await setUp({ OPENWEATHER_TIMEOUT_MS: "100" });
  try {
    const fresh = await t.ask("London");
    t.clock.advance(601_000);
    const release = t.upstream.hold();
    try {
      assert.deepEqual(await t.ask("London"), { ...fresh, stale: true });
    } finally {
      release();
    }
  } finally {
    await t.close();
  }
});

Deno.test("the quota guard never lets more than OPENWEATHER_MAX_CALLS_PER_MINUTE calls through", async () => {
  // Every name here is unknown: let unknown names use the whole budget.
  const t = await setUp({
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "3",
    OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "100",
  });
  try {
    for (const city of ["Atlantis", "El Dorado", "Shangri-La"]) await t.ask(city);
    assert.equal(t.upstream.requests.length, 3);
    const refused = await t.ask("Avalon");
    assert.equal(refused.error_code, "UPSTREAM_RATE_LIMITED");
    assert.equal(t.upstream.requests.length, 3, "the fourth call was not made");
    // A cached city is still answered.
    assert.equal((await t.ask("Atlantis")).error_code, "CITY_NOT_FOUND");
    t.clock.advance(60_000);
    await t.ask("Avalon");
    assert.equal(t.upstream.requests.length, 4);
  } finally {
    await t.close();
  }
});

for (
  const [status, code] of [[429, "UPSTREAM_RATE_LIMITED"], [401, "UPSTREAM_AUTH_FAILED"]] as const
) {
  Deno.test(`after a ${status} the upstream is left alone for OPENWEATHER_BACKOFF_S`, async () => {
    const t = await setUp({ OPENWEATHER_BACKOFF_S: "900" });
    try {
      await t.ask("London");
      t.upstream.respondWith(() => Response.json(ERROR_BODIES[status], { status }));
      assert.equal((await t.ask("São Paulo")).error_code, code);
      const calls = t.upstream.requests.length;

      // Nothing is sent while backing off: a known city is served stale, others get the code.
      t.clock.advance(601_000);
      assert.equal((await t.ask("London")).stale, true);
      assert.equal((await t.ask("東京")).error_code, code);
      assert.equal(t.upstream.requests.length, calls);
      assert.equal(
        t.service.logLines.filter((line) => line.includes("not calling it until the back-off ends"))
          .length,
        1,
      );

      t.upstream.respondWith(undefined);
      t.clock.advance(300_000);
      assert.equal((await t.ask("東京")).city, "Tokyo");
      assert.equal(t.upstream.requests.length, calls + 1);
    } finally {
      await t.close();
    }
  });
}

Deno.test("REQUEST_DEADLINE_MS answers in time, and the late upstream answer still fills the cache", async () => {
  const t = await setUp({ REQUEST_DEADLINE_MS: "150", OPENWEATHER_TIMEOUT_MS: "10000" });
  try {
    const release = t.upstream.hold();
    const started = performance.now();
    const answer = await t.ask("London");
    const elapsed = performance.now() - started;
    assert.deepEqual(answer, {
      error_code: "UPSTREAM_TIMEOUT",
      error_message: "The weather service did not answer in time",
    });
    // Generous bound for a loaded machine; without the deadline this would take 10 s.
    assert.ok(elapsed < 5_000, `answered after ${elapsed} ms`);
    release();
    // The upstream call went on in the background; once its answer lands, callers get it
    // from the cache (or join the call still in flight).
    await pollUntil("the late upstream answer to be served", async () => {
      return (await t.ask("London")).city === "London" || undefined;
    }, { intervalMs: 10 });
    assert.equal(t.upstream.requests.length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("GET /metrics exposes requests, upstream calls, cache results and token checks", async () => {
  const t = await setUp({
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: "genesys",
    OAUTH_CLIENT_SECRET: "a-long-enough-client-secret",
    PUBLIC_URL: "https://weather.example.test",
  });
  try {
    const tokenResponse = await fetchWithin(new URL("/oauth/token", t.service.url), {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa("genesys:a-long-enough-client-secret")}`,
      },
      body: "grant_type=client_credentials",
    });
    const { access_token } = await tokenResponse.json();
    const call = (city: string, token = access_token) =>
      t.service.post(WEATHER, { city_name: city }, {
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      })
        .then((response) => response.text());
    await call("London");
    await call("London");
    await call("Atlantis");
    await call("London", "not-a-token");
    await fetchWithin(new URL("/nope", t.service.url)).then((response) => response.text());
    await fetchWithin(new URL("/data-action/weather", t.service.url), { method: "BREW" })
      .then((response) => response.text());

    const response = await fetchWithin(new URL("/metrics", t.service.url));
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/plain/);
    const text = await response.text();
    const value = (series: string) =>
      Number(
        text.split("\n").find((line) => line.startsWith(`${series} `))?.slice(series.length + 1),
      );
    assert.equal(
      value('http_requests_total{route="/data-action/weather",method="POST",status="200"}'),
      3,
    );
    assert.equal(
      value('http_requests_total{route="/data-action/weather",method="POST",status="401"}'),
      1,
    );
    assert.equal(value('http_requests_total{route="/oauth/token",method="POST",status="200"}'), 1);
    assert.equal(value('http_requests_total{route="unmatched",method="GET",status="404"}'), 1);
    // An invented method is counted, but not under its own label.
    assert.equal(
      value('http_requests_total{route="/data-action/weather",method="OTHER",status="405"}'),
      1,
    );
    assert.ok(!text.includes("BREW"));
    assert.equal(value('openweather_calls_total{action="weather",outcome="ok"}'), 1);
    assert.equal(value('openweather_calls_total{action="weather",outcome="CITY_NOT_FOUND"}'), 1);
    assert.equal(value('weather_cache_lookups_total{action="weather",result="hit"}'), 1);
    assert.equal(value('weather_cache_lookups_total{action="weather",result="miss"}'), 2);
    assert.equal(value('auth_token_verifications_total{result="miss"}'), 1);
    assert.equal(value('auth_token_verifications_total{result="hit"}'), 2);
    assert.equal(value('auth_token_verifications_total{result="rejected"}'), 1);
    // Four POSTs and the BREW: the duration histogram is by route only.
    assert.equal(value('http_request_duration_seconds_count{route="/data-action/weather"}'), 5);
    assert.ok(value("process_resident_memory_bytes") > 0);
  } finally {
    await t.close();
  }
});

Deno.test("GET /readyz says not ready until the identity provider's keys are loaded", async () => {
  const service = await startService({
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json",
    AUTH_ISSUER: "https://idp.example.test/",
    AUTH_AUDIENCE: "api://weather",
  });
  try {
    await service.waitForLog("Key set could not be fetched");
    const response = await fetchWithin(new URL("/readyz", service.url));
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), {
      error_code: "NOT_READY",
      error_message: "The identity provider's key set (AUTH_JWKS_URL) is not loaded",
    });
    const health = await fetchWithin(new URL("/healthz", service.url));
    assert.equal(health.status, 200, "alive even while not ready");
    await health.body?.cancel();
  } finally {
    await service.close();
  }
  const open = await startService({});
  try {
    const response = await fetchWithin(new URL("/readyz", open.url));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ready" });
  } finally {
    await open.close();
  }
});

Deno.test("a not-found answer never replaces a good answer still inside its stale window", async () => {
  const t = await setUp();
  try {
    const fresh = await t.ask("London");
    t.clock.advance(601_000);
    // One odd 404 for a city that answered before (issue 14: "New\u00a0York" poisoning "New York").
    t.upstream.respondWith(() => Response.json(ERROR_BODIES[404], { status: 404 }));
    assert.deepEqual(await t.ask("London"), { ...fresh, stale: true });
    t.upstream.respondWith(undefined);
    const calls = t.upstream.requests.length;
    // Not cached as not found: the next ask goes upstream again and gets the city.
    assert.deepEqual(await t.ask("london"), fresh);
    assert.equal(t.upstream.requests.length, calls + 1);
  } finally {
    await t.close();
  }
});

Deno.test("names never answered before use at most OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT of the budget", async (s) => {
  const t = await setUp({ OPENWEATHER_MAX_CALLS_PER_MINUTE: "8", WEATHER_CACHE_TTL_S: "30" });
  try {
    // London's first call was for a name never seen; a minute later it is known, and stale.
    await t.ask("London");
    t.clock.advance(61_000);
    await s.step("a flood of random names gets half the budget", async () => {
      const answers = [];
      for (let i = 0; i < 10; i++) answers.push((await t.ask(`zqx${i}wv`)).error_code);
      assert.equal(answers.filter((code) => code === "CITY_NOT_FOUND").length, 4);
      assert.equal(answers.filter((code) => code === "UPSTREAM_RATE_LIMITED").length, 6);
      assert.equal(t.upstream.requests.length, 1 + 4);
    });
    await s.step("a known city is still refreshed, not served stale", async () => {
      const london = await t.ask("London");
      assert.equal(london.city, "London");
      assert.equal(london.stale, false);
      assert.equal(t.upstream.requests.length, 1 + 4 + 1);
    });
    await s.step("the metrics show how the budget was spent", async () => {
      const text = await (await fetchWithin(new URL("/metrics", t.service.url))).text();
      assert.match(text, /^openweather_budget_spent_total\{kind="known"\} 1$/m);
      assert.match(text, /^openweather_budget_spent_total\{kind="unknown"\} 5$/m);
      assert.match(
        text,
        /^openweather_budget_refused_total\{kind="unknown",reason="unknown_share"\} 6$/m,
      );
      assert.match(text, /^openweather_calls_total\{action="weather",outcome="throttled"\} 6$/m);
    });
  } finally {
    await t.close();
  }
});

/** The calls the budget let through, for known places and for unknown names. */
async function budgetSpent(service: RunningService): Promise<{ known: number; unknown: number }> {
  const text = await (await fetchWithin(new URL("/metrics", service.url))).text();
  const count = (kind: string) =>
    Number(
      text.match(new RegExp(`^openweather_budget_spent_total\\{kind="${kind}"\\} (\\d+)$`, "m"))
        ?.[1] ?? 0,
    );
  return { known: count("known"), unknown: count("unknown") };
}

Deno.test("a place that answered is known in every units and language, for both actions, for 30 days", async (s) => {
  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
    // Unknown names may make 4 of the 8 calls a minute.
    OPENWEATHER_MAX_CALLS_PER_MINUTE: "8",
  }, { clock });
  const ask = async (body: Record<string, string>, action = "weather") => {
    const response = await service.post(`/data-action/${action}`, body);
    assert.equal(response.status, 200);
    return await response.json();
  };
  const spent = () => budgetSpent(service);

  await s.step("its other units and languages, and its forecast, are known calls", async () => {
    assert.equal((await ask({ city_name: "London" })).city, "London");
    assert.deepEqual(await spent(), { known: 0, unknown: 1 });
    await ask({ city_name: "London", units: "imperial", lang: "de" });
    await ask({ city_name: "london", units: "standard", lang: "fr" });
    await ask({ city_name: "London", lang: "pt-br" });
    assert.equal((await ask({ city_name: "London" }, "forecast")).city, "London");
    assert.deepEqual(await spent(), { known: 4, unknown: 1 });
  });
  await s.step("so a flood of new names cannot hold back its next language", async () => {
    clock.advance(60_000);
    for (let i = 0; i < 6; i++) await ask({ city_name: `zqx${i}wv` });
    assert.deepEqual(await spent(), { known: 4, unknown: 1 + 4 });
    const spanish = await ask({ city_name: "London", lang: "es" });
    assert.equal(spanish.condition, "Lluvia ligera");
    assert.deepEqual(await spent(), { known: 5, unknown: 5 });
  });
  await s.step("for 30 days after it last answered, then no longer", async () => {
    clock.advance(29 * 24 * 3_600_000);
    await ask({ city_name: "London", lang: "it" });
    assert.deepEqual(await spent(), { known: 6, unknown: 5 });
    clock.advance(30 * 24 * 3_600_000 + 1);
    await ask({ city_name: "London", lang: "nl" });
    assert.deepEqual(await spent(), { known: 6, unknown: 6 });
  });
});

Deno.test("WEATHER_CACHE_MAX_ENTRIES bounds the places an instance remembers as known", async () => {
  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    OPENWEATHER_BASE_URL: upstream.url.href,
    WEATHER_CACHE_MAX_ENTRIES: "2",
  }, { clock });
  const ask = async (city: string, lang = "en") => {
    const response = await service.post(WEATHER, { city_name: city, lang });
    assert.equal(response.status, 200);
    return await response.json();
  };
  for (const city of ["London", "Tokyo", "New York"]) {
    assert.equal((await ask(city)).error_code, undefined);
  }
  assert.deepEqual(await budgetSpent(service), { known: 0, unknown: 3 });
  // Tokyo and New York, the two answered last, are known; London was dropped first.
  await ask("Tokyo", "de");
  await ask("New York", "de");
  assert.deepEqual(await budgetSpent(service), { known: 2, unknown: 3 });
  await ask("London", "de");
  assert.deepEqual(await budgetSpent(service), { known: 2, unknown: 4 });
});
