import assert from "node:assert/strict";
import { TestClock } from "../support/clock.ts";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { startService } from "../support/service.ts";

const USER = "genesys";
const PASSWORD = "correct horse battery staple";
const CHALLENGE = 'Basic realm="genesys-weather-action", charset="UTF-8"';

Deno.test("AUTH_MODE=basic checks the user and password, and throttles guessing", async (s) => {
  const clock = new TestClock();
  const upstream = startFakeOpenWeather();
  const service = await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: USER,
    BASIC_AUTH_PASSWORD: PASSWORD,
    OPENWEATHER_BASE_URL: upstream.url.href,
  }, { now: clock.now });
  const call = (authorization?: string) =>
    service.post("/data-action/weather", { city_name: "London" }, {
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    });
  const basic = (user: string, password: string) => `Basic ${btoa(user + ":" + password)}`;
  const assertChallenged = async (response: Response, message: string) => {
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), CHALLENGE);
    assert.deepEqual(await response.json(), { error_code: "UNAUTHORIZED", error_message: message });
  };
  try {
    await s.step("the right credentials open the action", async () => {
      const response = await call(basic(USER, PASSWORD));
      assert.equal(response.status, 200);
      assert.equal((await response.json()).city, "London");
    });
    await s.step("no credentials: 401 with a Basic challenge", async () => {
      await assertChallenged(await call(), "Authentication is required");
    });
    await s.step("a wrong password, a wrong user, a Bearer token, broken Base64: 401", async () => {
      await assertChallenged(await call(basic(USER, "wrong")), "Invalid credentials");
      await assertChallenged(await call(basic("root", PASSWORD)), "Invalid credentials");
      await assertChallenged(await call("Bearer abc.def.ghi"), "Invalid credentials");
      await assertChallenged(await call("Basic %%%"), "Invalid credentials");
    });
    await s.step(
      "after 10 failures in a minute the address gets 429, even for the right password",
      async () => {
        // A fresh instance: a header that already succeeded is remembered and not throttled.
        const fresh = await startService({
          AUTH_MODE: "basic",
          BASIC_AUTH_USER: USER,
          BASIC_AUTH_PASSWORD: PASSWORD,
          OPENWEATHER_BASE_URL: upstream.url.href,
        }, { now: clock.now });
        const callFresh = (authorization: string) =>
          fresh.post("/data-action/weather", { city_name: "London" }, {
            headers: { "content-type": "application/json", authorization },
          });
        try {
          for (let i = 0; i < 10; i++) {
            await (await callFresh(basic(USER, `guess-${i}`))).body?.cancel();
          }
          const blocked = await callFresh(basic(USER, PASSWORD));
          assert.equal(blocked.status, 429);
          assert.equal(blocked.headers.get("retry-after"), "60");
          assert.equal((await blocked.json()).error_code, "TOO_MANY_REQUESTS");
          clock.advance(60_000);
          const allowed = await callFresh(basic(USER, PASSWORD));
          assert.equal(allowed.status, 200);
          await allowed.body?.cancel();
        } finally {
          await fresh.close();
        }
      },
    );
    await s.step("a header that already succeeded keeps working without re-checking", async () => {
      const response = await call(basic(USER, PASSWORD));
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
    await s.step("the password never reaches the log", () => {
      assert.ok(!service.logLines.join("\n").includes(PASSWORD));
    });
  } finally {
    await service.close();
    await upstream.close();
  }
});
