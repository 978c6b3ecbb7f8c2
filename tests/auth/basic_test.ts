import assert from "node:assert/strict";
import { TestClock } from "../support/clock.ts";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { startService } from "../support/service.ts";

const USER = "genesys";
const PASSWORD = "correct horse battery staple";
const CHALLENGE = 'Basic realm="genesys-weather-action", charset="UTF-8"';

Deno.test("AUTH_MODE=basic checks the user and password, and throttles guessing only", async (s) => {
  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  const startBasicService = () =>
    startService({
      AUTH_MODE: "basic",
      BASIC_AUTH_USER: USER,
      BASIC_AUTH_PASSWORD: PASSWORD,
      OPENWEATHER_BASE_URL: upstream.url.href,
    }, { clock });
  await using service = await startBasicService();
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
    "ten wrong passwords, then the right one from the same address: 200; more wrong ones: 429",
    async () => {
      // A fresh instance, so no header is remembered as accepted and no failure carries over.
      await using fresh = await startBasicService();
      const callFresh = (authorization: string) =>
        fresh.post("/data-action/weather", { city_name: "London" }, {
          headers: { "content-type": "application/json", authorization },
        });
      for (let i = 0; i < 10; i++) {
        const refused = await callFresh(basic(USER, `guess-${i}`));
        assert.equal(refused.status, 401, `guess ${i}`);
        await refused.body?.cancel();
      }
      const allowed = await callFresh(basic(USER, PASSWORD));
      assert.equal(allowed.status, 200);
      assert.equal((await allowed.json()).city, "London");
      const throttled = await callFresh(basic(USER, "guess-10"));
      assert.equal(throttled.status, 429);
      assert.equal(throttled.headers.get("retry-after"), "60");
      assert.equal((await throttled.json()).error_code, "TOO_MANY_REQUESTS");
      // The right password, sent differently (no remembered header): still let in at once.
      const again = await callFresh(`basic  ${btoa(USER + ":" + PASSWORD)}`);
      assert.equal(again.status, 200);
      await again.body?.cancel();
      clock.advance(60_000);
      const afterWindow = await callFresh(basic(USER, "guess-11"));
      assert.equal(afterWindow.status, 401);
      await afterWindow.body?.cancel();
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
});

Deno.test("AUTH_MODE=basic counts failures by X-Forwarded-For only from TRUSTED_PROXIES", async (s) => {
  await using upstream = startFakeOpenWeather();
  const start = (trusted: Record<string, string>) =>
    startService({
      AUTH_MODE: "basic",
      BASIC_AUTH_USER: USER,
      BASIC_AUTH_PASSWORD: PASSWORD,
      OPENWEATHER_BASE_URL: upstream.url.href,
      ...trusted,
    });
  const wrongFrom = async (
    service: Awaited<ReturnType<typeof start>>,
    forwardedFor: string,
  ): Promise<number> => {
    const response = await service.post("/data-action/weather", { city_name: "London" }, {
      headers: {
        "content-type": "application/json",
        authorization: `Basic ${btoa(`${USER}:wrong-password`)}`,
        "x-forwarded-for": forwardedFor,
      },
    });
    await response.body?.cancel();
    return response.status;
  };
  await s.step("behind a trusted proxy, each forwarded client has its own count", async () => {
    await using service = await start({ TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1" });
    for (let i = 0; i < 10; i++) assert.equal(await wrongFrom(service, "203.0.113.7"), 401);
    assert.equal(await wrongFrom(service, "203.0.113.7"), 429);
    // The client named left of a trusted hop (the proxy chain's own address) is the one counted.
    assert.equal(await wrongFrom(service, "203.0.113.7, 10.1.2.3"), 429);
    assert.equal(await wrongFrom(service, "203.0.113.8"), 401);
  });
  await s.step("from an untrusted peer, X-Forwarded-For is ignored", async () => {
    await using service = await start({});
    for (let i = 0; i < 10; i++) assert.equal(await wrongFrom(service, `198.51.100.${i}`), 401);
    assert.equal(await wrongFrom(service, "198.51.100.99"), 429);
  });
});
