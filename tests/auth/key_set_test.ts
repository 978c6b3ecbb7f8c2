import assert from "node:assert/strict";
import { createLocalJWKSet } from "jose";
import { createBearerAuthenticator } from "../../src/auth/bearer.ts";
import { silentLogger } from "../../src/process/log.ts";
import { TestClock } from "../support/clock.ts";
import { type KeyHostMode, startFakeKeyHost } from "../support/fake_jwks.ts";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { startService } from "../support/service.ts";
import { generateTestKey, signToken, type TestKey } from "../support/tokens.ts";

const ISSUER = "https://idp.example.test/";
const AUDIENCE = "api://genesys-weather";
const MAX_AGE_S = 600;
const STALE_MAX_S = 3600;
const COOLDOWN_MS = 30_000;

async function setUp(extra: Record<string, string> = {}) {
  const clock = new TestClock();
  const key = await generateTestKey("key-1");
  const keyHost = startFakeKeyHost([key.publicJwk]);
  const upstream = startFakeOpenWeather();
  const service = await startService({
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: keyHost.url.href,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_CACHE_MAX_AGE_S: String(MAX_AGE_S),
    AUTH_JWKS_STALE_MAX_S: String(STALE_MAX_S),
    AUTH_JWKS_TIMEOUT_MS: "200",
    // Every call below must reach the key set, not the verification cache.
    AUTH_VERIFICATION_CACHE_TTL_S: "0",
    OPENWEATHER_BASE_URL: upstream.url.href,
    ...extra,
  }, { clock });
  const tokenFrom = (signer: TestKey) =>
    signToken({
      key: signer,
      nowS: clock.seconds(),
      claims: { iss: ISSUER, aud: AUDIENCE, exp: clock.seconds() + 86_400 },
    });
  const call = async (token: string) => {
    const response = await service.post("/data-action/weather", { city_name: "London" }, {
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: await response.json(), headers: response.headers };
  };
  const logged = (message: string) =>
    service.logLines.map((line) => JSON.parse(line)).filter((entry) =>
      entry.msg.startsWith(message)
    );
  return {
    clock,
    key,
    keyHost,
    service,
    tokenFrom,
    call,
    logged,
    async close() {
      await service.close();
      await upstream.close();
      await keyHost.close();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}

Deno.test("a rotated key is picked up by one refetch, and bogus kids cannot flood the key host", async (s) => {
  await using t = await setUp();
  assert.equal((await t.call(await t.tokenFrom(t.key))).status, 200);
  assert.equal(t.keyHost.requestCount(), 1);

  const rotated = await generateTestKey("key-2");
  t.keyHost.setKeys([t.key.publicJwk, rotated.publicJwk]);

  await s.step(
    "within the refetch cooldown an unknown kid is refused without a fetch",
    async () => {
      const { status, body } = await t.call(await t.tokenFrom(rotated));
      assert.equal(status, 401);
      assert.equal(body.error_message, "Token could not be verified");
      assert.equal(t.keyHost.requestCount(), 1);
    },
  );

  await s.step(
    "after the cooldown the unknown kid triggers one refetch and is accepted",
    async () => {
      t.clock.advance(COOLDOWN_MS);
      assert.equal((await t.call(await t.tokenFrom(rotated))).status, 200);
      assert.equal(t.keyHost.requestCount(), 2);
    },
  );

  await s.step(
    "40 concurrent tokens with made-up kids cost the key host one request",
    async () => {
      t.clock.advance(COOLDOWN_MS);
      // The key set is asked for a kid: one forger's key under 40 made-up kids does it
      // (an RSA key pair each only cost the test seconds of key generation).
      const forger = await generateTestKey("forger");
      const kids = Array.from({ length: 40 }, (_, i) => `bogus-${i}`);
      const results = await Promise.all(
        kids.map(async (kid) => t.call(await t.tokenFrom({ ...forger, kid }))),
      );
      assert.ok(results.every(({ status }) => status === 401));
      assert.equal(t.keyHost.requestCount(), 3);
      // And not another one until the cooldown has passed again.
      await t.call(await t.tokenFrom({ ...forger, kid: kids[0]! }));
      assert.equal(t.keyHost.requestCount(), 3);
    },
  );
});

for (const mode of ["down", "garbage", "empty"] as KeyHostMode[]) {
  Deno.test(`a key host that is "${mode}" breaks nothing that was working, and is logged once`, async () => {
    await using t = await setUp();
    const token = await t.tokenFrom(t.key);
    assert.equal((await t.call(token)).status, 200);
    t.keyHost.setMode(mode);

    // Well past the cache age, with refetches due again and again.
    for (let minute = 0; minute < 20; minute++) {
      t.clock.advance(MAX_AGE_S * 1000 / 4);
      const { status } = await t.call(token);
      assert.equal(status, 200, `minute ${minute}`);
    }
    assert.ok(t.keyHost.requestCount() > 2, "refetches were attempted");
    assert.equal(t.logged("Key set refetch failed").length, 1);

    t.keyHost.setMode("serve");
    t.clock.advance(COOLDOWN_MS);
    assert.equal((await t.call(token)).status, 200);
    // The refetch that succeeds may run alongside the request; one more call settles it.
    assert.equal((await t.call(token)).status, 200);
    assert.equal(t.logged("Key set reachable again").length, 1);
  });
}

Deno.test("a stalled key host adds no latency: stale keys answer while one refetch waits", async () => {
  await using t = await setUp();
  const token = await t.tokenFrom(t.key);
  assert.equal((await t.call(token)).status, 200);
  t.keyHost.setMode("stall");
  for (let quarter = 0; quarter < 20; quarter++) {
    t.clock.advance(MAX_AGE_S * 1000 / 4);
    assert.equal((await t.call(token)).status, 200);
  }
  // Single flight: the one stalled refetch is all the key host sees.
  assert.equal(t.keyHost.requestCount(), 2);
  // It fails when AUTH_JWKS_TIMEOUT_MS runs out, and that is logged once.
  await t.service.waitForLog("Key set refetch failed");
  assert.equal(t.logged("Key set refetch failed").length, 1);
});

Deno.test("past AUTH_JWKS_STALE_MAX_S without the key host, tokens cannot be checked: 503, not 401", async () => {
  await using t = await setUp();
  const token = await t.tokenFrom(t.key);
  assert.equal((await t.call(token)).status, 200);
  t.keyHost.setMode("down");
  t.clock.advance((MAX_AGE_S + STALE_MAX_S + 1) * 1000);
  const { status, body, headers } = await t.call(token);
  assert.equal(status, 503);
  assert.equal(headers.get("retry-after"), "30");
  assert.deepEqual(body, {
    error_code: "AUTH_UNAVAILABLE",
    error_message: "Tokens cannot be verified right now",
  });
});

Deno.test("a key host that is down at start is retried after the cooldown, not per request", async () => {
  const clock = new TestClock();
  const key = await generateTestKey("key-1");
  await using keyHost = startFakeKeyHost([key.publicJwk]);
  keyHost.setMode("down");
  await using service = await startService({
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: keyHost.url.href,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    OPENWEATHER_BASE_URL: "http://127.0.0.1:9/unused",
  }, { clock });
  const token = await signToken({
    key,
    nowS: clock.seconds(),
    claims: { iss: ISSUER, aud: AUDIENCE },
  });
  const call = () =>
    service.post("/data-action/weather", {}, {
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
  for (let i = 0; i < 5; i++) {
    const response = await call();
    assert.equal(response.status, 503);
    await response.body?.cancel();
  }
  assert.equal(keyHost.requestCount(), 1);
  keyHost.setMode("serve");
  clock.advance(COOLDOWN_MS);
  const response = await call();
  // Authenticated now: the request naming no place is what is wrong.
  assert.equal(response.status, 200);
  assert.equal((await response.json()).error_code, "INVALID_INPUT");
  assert.equal(keyHost.requestCount(), 2);
});

Deno.test("the verification cache skips signature checks for a known token, never past its exp", async (s) => {
  const clock = new TestClock();
  const key = await generateTestKey("key-1");
  const outcomes: string[] = [];
  const authenticator = (options: { ttlMs?: number; maxEntries?: number } = {}) =>
    createBearerAuthenticator({
      realm: "test",
      trusted: [{ issuer: ISSUER, getKey: createLocalJWKSet({ keys: [key.publicJwk] }) }],
      audiences: [AUDIENCE],
      algorithms: ["RS256"],
      clockToleranceS: 0,
      maxTokenAgeS: 86_400,
      verificationCacheTtlMs: options.ttlMs ?? 60_000,
      verificationCacheMaxEntries: options.maxEntries ?? 100,
      now: clock.now,
      logger: silentLogger,
      onVerification: (outcome) => outcomes.push(outcome),
    });
  const token = (expInS: number) =>
    signToken({
      key,
      nowS: clock.seconds(),
      claims: { iss: ISSUER, aud: AUDIENCE, exp: clock.seconds() + expInS },
    });
  const request = (jwt: string) =>
    new Request("http://localhost/", { headers: { authorization: `Bearer ${jwt}` } });
  const attempt = (auth: ReturnType<typeof authenticator>, jwt: string) =>
    auth.authenticate(request(jwt), { clientAddress: "127.0.0.1" }).then(
      () => "ok",
      (error) => error.message,
    );

  await s.step("the second use of a token is a cache hit", async () => {
    outcomes.length = 0;
    const auth = authenticator();
    const jwt = await token(3600);
    assert.equal(await attempt(auth, jwt), "ok");
    assert.equal(await attempt(auth, jwt), "ok");
    assert.deepEqual(outcomes, ["miss", "hit"]);
  });

  await s.step("an entry never outlives the token's exp", async () => {
    outcomes.length = 0;
    const auth = authenticator({ ttlMs: 600_000 });
    const jwt = await token(10);
    assert.equal(await attempt(auth, jwt), "ok");
    clock.advance(11_000);
    assert.equal(await attempt(auth, jwt), "Token has expired");
    assert.deepEqual(outcomes, ["miss", "rejected"]);
  });

  await s.step("an entry lives at most AUTH_VERIFICATION_CACHE_TTL_S", async () => {
    outcomes.length = 0;
    const auth = authenticator({ ttlMs: 60_000 });
    const jwt = await token(3600);
    await attempt(auth, jwt);
    clock.advance(61_000);
    await attempt(auth, jwt);
    assert.deepEqual(outcomes, ["miss", "miss"]);
  });

  await s.step("the cache holds at most AUTH_VERIFICATION_CACHE_MAX_ENTRIES tokens", async () => {
    outcomes.length = 0;
    const auth = authenticator({ maxEntries: 2 });
    const [a, b, c] = [await token(3600), await token(3601), await token(3602)];
    for (const jwt of [a, b, c, a]) await attempt(auth, jwt);
    assert.deepEqual(outcomes, ["miss", "miss", "miss", "miss"]);
  });

  await s.step("a TTL of 0 turns the cache off", async () => {
    outcomes.length = 0;
    const auth = authenticator({ ttlMs: 0 });
    const jwt = await token(3600);
    await attempt(auth, jwt);
    await attempt(auth, jwt);
    assert.deepEqual(outcomes, ["miss", "miss"]);
  });
});
