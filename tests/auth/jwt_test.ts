import assert from "node:assert/strict";
import { exportSPKI, SignJWT, UnsecuredJWT } from "jose";
import { TestClock } from "../support/clock.ts";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { startFakeKeyHost } from "../support/fake_jwks.ts";
import { startService } from "../support/service.ts";
import { generateTestKey, signToken } from "../support/tokens.ts";

const ISSUER = "https://idp.example.test/";
const AUDIENCE = "api://genesys-weather";
const REALM = "genesys-weather-action";
const WEATHER = "/data-action/weather";

async function setUp(extra: Record<string, string> = {}) {
  const clock = new TestClock();
  const key = await generateTestKey("key-1");
  const keyHost = startFakeKeyHost([key.publicJwk]);
  const upstream = startFakeOpenWeather();
  const service = await startService({
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: keyHost.url.href,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: `other-api, ${AUDIENCE}`,
    OPENWEATHER_BASE_URL: upstream.url.href,
    ...extra,
  }, { clock });
  const token = ({ claims, ...options }: Partial<Parameters<typeof signToken>[0]> = {}) =>
    signToken({
      key,
      nowS: clock.seconds(),
      ...options,
      claims: { iss: ISSUER, aud: AUDIENCE, ...claims },
    });
  const call = (authorization?: string) =>
    service.post(WEATHER, { city_name: "London" }, {
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    });
  return {
    clock,
    key,
    keyHost,
    service,
    token,
    call,
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

async function assertRejected(response: Response, description: string): Promise<void> {
  assert.equal(response.status, 401);
  assert.equal(
    response.headers.get("www-authenticate"),
    `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`,
  );
  assert.deepEqual(await response.json(), {
    error_code: "UNAUTHORIZED",
    error_message: description,
  });
}

Deno.test("AUTH_MODE=jwt accepts a valid token from the identity provider", async () => {
  await using t = await setUp();
  const response = await t.call(`Bearer ${await t.token()}`);
  assert.equal(response.status, 200);
  assert.equal((await response.json()).city, "London");
  const access = t.service.logLines.map((line) => JSON.parse(line)).find((e) =>
    e.msg === "request"
  );
  assert.equal(access.subject, "genesys-client");
});

Deno.test("AUTH_MODE=jwt refuses every forged, stale or malformed token per RFC 6750", async (s) => {
  await using t = await setUp();
  const otherKey = await generateTestKey("key-1"); // Same kid, different key: a forgery.
  const publicPem = await exportSPKI(
    await crypto.subtle.importKey(
      "jwk",
      t.key.publicJwk,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      true,
      ["verify"],
    ),
  );
  const nowS = t.clock.seconds();
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: "x", exp: nowS + 600 };
  const tokensSeen: string[] = [];
  const reject = async (authorization: string, description: string) => {
    tokensSeen.push(authorization.split(" ").at(-1)!);
    await assertRejected(await t.call(authorization), description);
  };
  await s.step("no credentials: a bare challenge without error", async () => {
    const response = await t.call();
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), `Bearer realm="${REALM}"`);
    assert.deepEqual(await response.json(), {
      error_code: "UNAUTHORIZED",
      error_message: "Authentication is required",
    });
  });
  await s.step("a scheme other than Bearer", async () => {
    await reject(`Basic ${btoa("user:password")}`, "Authorization scheme must be Bearer");
  });
  await s.step('alg "none"', async () => {
    await reject(
      `Bearer ${new UnsecuredJWT(claims).encode()}`,
      "Token algorithm is not accepted",
    );
  });
  await s.step("HS256 signed with the public key as the secret", async () => {
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "key-1" })
      .sign(new TextEncoder().encode(publicPem));
    await reject(`Bearer ${forged}`, "Token algorithm is not accepted");
  });
  await s.step("an asymmetric algorithm outside AUTH_ALGORITHMS", async () => {
    const es = await generateTestKey("key-es", "ES256");
    await reject(
      `Bearer ${await signToken({ key: es, nowS, claims })}`,
      "Token algorithm is not accepted",
    );
  });
  await s.step("a bad signature", async () => {
    await reject(
      `Bearer ${await signToken({ key: otherKey, nowS, claims })}`,
      "Token could not be verified",
    );
  });
  await s.step("a tampered payload", async () => {
    const [header, , signature] = (await t.token()).split(".");
    const payload = btoa(JSON.stringify({ ...claims, sub: "admin" })).replace(/=+$/, "")
      .replaceAll("+", "-").replaceAll("/", "_");
    await reject(`Bearer ${header}.${payload}.${signature}`, "Token could not be verified");
  });
  await s.step("an unknown kid", async () => {
    const stranger = await generateTestKey("key-unknown");
    await reject(
      `Bearer ${await signToken({ key: stranger, nowS, claims })}`,
      "Token could not be verified",
    );
  });
  await s.step("an expired token, beyond the clock tolerance", async () => {
    await reject(`Bearer ${await t.token({ claims: { exp: nowS - 31 } })}`, "Token has expired");
  });
  await s.step("a token not valid yet", async () => {
    await reject(
      `Bearer ${await t.token({ claims: { nbf: nowS + 120 } })}`,
      "Token is not valid yet",
    );
  });
  await s.step("a token without exp", async () => {
    await reject(`Bearer ${await t.token({ withoutExpiry: true })}`, "Token must have an expiry");
  });
  await s.step("an iat beyond AUTH_CLOCK_TOLERANCE_S: one minute, one year ahead", async () => {
    await reject(
      `Bearer ${await t.token({ claims: { iat: nowS + 60, exp: nowS + 3600 } })}`,
      "Token is issued in the future",
    );
    const yearS = 365 * 86_400;
    await reject(
      `Bearer ${await t.token({ claims: { iat: nowS + yearS, exp: nowS + yearS + 3600 } })}`,
      "Token is issued in the future",
    );
  });
  await s.step("a lifetime beyond AUTH_MAX_TOKEN_AGE_S (one day by default)", async () => {
    await reject(
      `Bearer ${await t.token({ claims: { exp: nowS + 20 * 365 * 86_400 } })}`,
      "Token lifetime is too long",
    );
    await reject(
      `Bearer ${await t.token({ withoutIssuedAt: true, claims: { exp: nowS + 86_400 + 60 } })}`,
      "Token lifetime is too long",
    );
  });
  await s.step("a wrong issuer", async () => {
    await reject(
      `Bearer ${await t.token({ claims: { iss: "https://evil.example.test/" } })}`,
      "Token could not be verified",
    );
    // The answer does not say the issuer is the problem; the log does.
    assert.ok(
      t.service.logLines.some((line) =>
        line.includes('Issuer \\"https://evil.example.test/\\" is not trusted')
      ),
    );
  });
  await s.step("a wrong audience", async () => {
    await reject(
      `Bearer ${await t.token({ claims: { aud: "api://something-else" } })}`,
      "Token audience is not accepted",
    );
  });
  await s.step("a malformed token", async () => {
    await reject("Bearer not.a.jwt", "Token is malformed");
    await reject("Bearer abc", "Token is malformed");
    await reject("Bearer", "Token is malformed");
  });
  await s.step("an oversized token", async () => {
    await reject(`Bearer ${"a".repeat(9000)}`, "Token is too large");
  });
  await s.step(
    "a token just expired but within AUTH_CLOCK_TOLERANCE_S is still accepted",
    async () => {
      const response = await t.call(`Bearer ${await t.token({ claims: { exp: nowS - 20 } })}`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    },
  );
  await s.step(
    "an iat within the tolerance and a lifetime of exactly a day are accepted",
    async () => {
      const tokens = [
        await t.token({ claims: { iat: nowS + 20, exp: nowS + 3600 } }),
        await t.token({ claims: { iat: nowS - 60, exp: nowS - 60 + 86_400 } }),
        await t.token({ withoutIssuedAt: true, claims: { exp: nowS + 3600 } }),
      ];
      for (const [i, token] of tokens.entries()) {
        const response = await t.call(`Bearer ${token}`);
        assert.equal(response.status, 200, `token ${i}`);
        await response.body?.cancel();
      }
    },
  );
  await s.step("no bad request reached OpenWeatherMap, and no token reached the log", () => {
    const log = t.service.logLines.join("\n");
    for (const token of tokensSeen.filter((token) => token.length > 10)) {
      assert.ok(!log.includes(token), "a token was logged");
    }
  });
});

Deno.test("AUTH_REQUIRED_SCOPE refuses a valid token without the scope with 403 insufficient_scope", async () => {
  await using t = await setUp({ AUTH_REQUIRED_SCOPE: "weather.read" });
  const response = await t.call(
    `Bearer ${await t.token({ claims: { scope: "profile email" } })}`,
  );
  assert.equal(response.status, 403);
  assert.equal(
    response.headers.get("www-authenticate"),
    // Quotes inside a challenge parameter are dropped rather than escaped.
    `Bearer realm="${REALM}", error="insufficient_scope", ` +
      `error_description="Token lacks the required scope weather.read", scope="weather.read"`,
  );
  assert.deepEqual(await response.json(), {
    error_code: "FORBIDDEN",
    error_message: 'Token lacks the required scope "weather.read"',
  });

  const withScp = await t.call(
    `Bearer ${await t.token({ claims: { scope: undefined, scp: ["weather.read"] } })}`,
  );
  assert.equal(withScp.status, 200);
  await withScp.body?.cancel();
});

Deno.test("GENESYS_ORG_IDS refuses calls from other organisations with 403", async () => {
  await using t = await setUp({ GENESYS_ORG_IDS: "3f6e1c2a-0000-4000-8000-000000000001" });
  const token = await t.token();
  const call = (org?: string) =>
    t.service.post(WEATHER, { city_name: "London" }, {
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        ...(org ? { "ININ-Organization-Id": org } : {}),
      },
    });
  for (const org of [undefined, "3f6e1c2a-0000-4000-8000-000000000002"]) {
    const response = await call(org);
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), {
      error_code: "FORBIDDEN",
      error_message: "Calling organization is not allowed",
    });
  }
  const allowed = await call("3F6E1C2A-0000-4000-8000-000000000001");
  assert.equal(allowed.status, 200);
  await allowed.body?.cancel();
});

Deno.test("AUTH_MAX_TOKEN_AGE_S sets the longest token lifetime accepted", async () => {
  await using t = await setUp({ AUTH_MAX_TOKEN_AGE_S: "600" });
  const nowS = t.clock.seconds();
  await assertRejected(
    await t.call(`Bearer ${await t.token({ claims: { exp: nowS + 601 } })}`),
    "Token lifetime is too long",
  );
  const response = await t.call(`Bearer ${await t.token({ claims: { exp: nowS + 600 } })}`);
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

Deno.test("a refused, validly signed token: the log names the claim and the reason, never the claims", async () => {
  await using t = await setUp();
  const nowS = t.clock.seconds();
  const personal = {
    sub: "subject-5f1c2a9e",
    email: "agent.smith@example.test",
    client_id: "client-8d7e6f",
  };
  const refusals = [
    { claims: { ...personal, aud: "api://something-else" }, claim: "aud" },
    { claims: { ...personal, exp: nowS - 3600, iat: nowS - 7200 }, claim: "exp" },
    { claims: { ...personal, nbf: nowS + 3600 }, claim: "nbf" },
    { claims: { ...personal, iat: nowS + 3600, exp: nowS + 7200 }, claim: "iat" },
  ];
  for (const { claims } of refusals) {
    const response = await t.call(`Bearer ${await t.token({ claims })}`);
    assert.equal(response.status, 401);
    await response.body?.cancel();
  }
  const refusalLines = t.service.logLines.filter((line) => line.includes("Request refused"));
  assert.equal(refusalLines.length, refusals.length, t.service.logLines.join("\n"));
  for (const [i, line] of refusalLines.entries()) {
    for (const value of Object.values(personal)) {
      assert.ok(!line.includes(value), `a claim's value was logged: ${line}`);
    }
    assert.ok(line.includes(`\\"${refusals[i]!.claim}\\"`), `the claim is not named: ${line}`);
  }
});
