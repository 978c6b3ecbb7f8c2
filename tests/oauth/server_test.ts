import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { TestClock } from "../support/clock.ts";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { startService } from "../support/service.ts";
import { fetchWithin } from "../support/wait.ts";

const CLIENT_ID = "genesys-cloud";
const CLIENT_SECRET = "a-long-client-secret+with%special:chars";
const PUBLIC_URL = "https://weather.example.test";

async function setUp(extra: Record<string, string> = {}) {
  const clock = new TestClock();
  const upstream = startFakeOpenWeather();
  const service = await startService({
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: CLIENT_ID,
    OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    PUBLIC_URL: `${PUBLIC_URL}/`,
    OAUTH_SCOPES: "weather.read,weather.admin",
    OPENWEATHER_BASE_URL: upstream.url.href,
    ...extra,
  }, { clock });
  const requestToken = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetchWithin(new URL("/oauth/token", service.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form),
    });
  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${btoa(`${id}:${secret}`)}`,
  });
  const callWeather = (token: string) =>
    service.post("/data-action/weather", { city_name: "London" }, {
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
  return {
    clock,
    service,
    requestToken,
    basic,
    callWeather,
    async close() {
      await service.close();
      await upstream.close();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}

async function assertOAuthError(response: Response, status: number, error: string): Promise<void> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("pragma"), "no-cache");
  const body = await response.json();
  assert.equal(body.error, error);
  assert.equal(typeof body.error_description, "string");
}

Deno.test("the built-in token endpoint issues RFC 9068 tokens that open the weather action", async (s) => {
  await using t = await setUp();
  let accessToken = "";
  await s.step("client_secret_basic, as Genesys's custom auth action sends it", async () => {
    const response = await t.requestToken(
      { grant_type: "client_credentials" },
      t.basic(CLIENT_ID, CLIENT_SECRET),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("pragma"), "no-cache");
    const body = await response.json();
    assert.deepEqual(Object.keys(body).sort(), [
      "access_token",
      "expires_in",
      "scope",
      "token_type",
    ]);
    assert.equal(body.token_type, "Bearer");
    assert.equal(body.expires_in, 3600);
    assert.equal(body.scope, "weather.read weather.admin");
    accessToken = body.access_token;
  });

  await s.step("the token carries the RFC 9068 header and claims", async () => {
    const header = decodeProtectedHeader(accessToken);
    assert.equal(header.typ, "at+jwt");
    assert.equal(header.alg, "RS256");
    const jwks = await (await fetchWithin(new URL("/.well-known/jwks.json", t.service.url))).json();
    assert.equal(header.kid, jwks.keys[0].kid);
    const claims = decodeJwt(accessToken);
    assert.equal(claims.iss, PUBLIC_URL);
    assert.equal(claims.aud, PUBLIC_URL);
    assert.equal(claims.sub, CLIENT_ID);
    assert.equal(claims.client_id, CLIENT_ID);
    assert.equal(claims.iat, t.clock.seconds());
    assert.equal(claims.exp, t.clock.seconds() + 3600);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    assert.equal(claims.scope, "weather.read weather.admin");
  });

  await s.step("the token opens the weather action", async () => {
    const response = await t.callWeather(accessToken);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).city, "London");
  });

  await s.step("client_secret_post works too, with a narrower scope", async () => {
    const response = await t.requestToken({
      grant_type: "client_credentials",
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope: "weather.read",
    });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.scope, "weather.read");
    assert.equal((await t.callWeather(body.access_token)).status, 200);
  });

  await s.step(
    "client_secret_basic with RFC 6749 form-encoding is accepted as well",
    async () => {
      const encoded = t.basic(
        encodeURIComponent(CLIENT_ID),
        encodeURIComponent(CLIENT_SECRET).replaceAll("%20", "+"),
      );
      const response = await t.requestToken({ grant_type: "client_credentials" }, encoded);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    },
  );

  await s.step("the token stops working when it expires", async () => {
    t.clock.advance((3600 + 31) * 1000);
    const response = await t.callWeather(accessToken);
    assert.equal(response.status, 401);
    assert.equal((await response.json()).error_message, "Token has expired");
  });

  await s.step("the JWKS publishes the public key only", async () => {
    const response = await fetchWithin(new URL("/.well-known/jwks.json", t.service.url));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "public, max-age=300");
    const { keys } = await response.json();
    assert.equal(keys.length, 1);
    assert.equal(keys[0].alg, "RS256");
    assert.equal(keys[0].use, "sig");
    for (const member of ["d", "p", "q", "dp", "dq", "qi"]) {
      assert.ok(!(member in keys[0]), member);
    }
  });

  await s.step("RFC 8414 metadata describes the endpoint", async () => {
    const response = await fetchWithin(
      new URL("/.well-known/oauth-authorization-server", t.service.url),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "public, max-age=300");
    assert.deepEqual(await response.json(), {
      issuer: PUBLIC_URL,
      token_endpoint: `${PUBLIC_URL}/oauth/token`,
      jwks_uri: `${PUBLIC_URL}/.well-known/jwks.json`,
      grant_types_supported: ["client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      scopes_supported: ["weather.read", "weather.admin"],
      response_types_supported: [],
    });
  });

  await s.step("neither the client secret nor a token is ever logged", () => {
    const log = t.service.logLines.join("\n");
    assert.ok(!log.includes(CLIENT_SECRET));
    assert.ok(!log.includes(accessToken));
    assert.ok(!log.includes(accessToken.split(".")[2]!));
  });
});

Deno.test("POST /oauth/token answers RFC 6749 §5.2 errors", async (s) => {
  await using t = await setUp();
  await s.step(
    "invalid_client with a Basic challenge for a wrong secret sent by Basic",
    async () => {
      const response = await t.requestToken(
        { grant_type: "client_credentials" },
        t.basic(CLIENT_ID, "wrong-secret-value"),
      );
      assert.equal(
        response.headers.get("www-authenticate"),
        'Basic realm="genesys-weather-action", charset="UTF-8"',
      );
      await assertOAuthError(response, 401, "invalid_client");
    },
  );
  await s.step(
    "invalid_client without a challenge for a wrong secret sent in the body",
    async () => {
      const response = await t.requestToken({
        grant_type: "client_credentials",
        client_id: CLIENT_ID,
        client_secret: "nope",
      });
      assert.equal(response.headers.get("www-authenticate"), null);
      await assertOAuthError(response, 401, "invalid_client");
    },
  );
  await s.step("invalid_client for an unknown client id", async () => {
    await assertOAuthError(
      await t.requestToken(
        { grant_type: "client_credentials" },
        t.basic("someone", CLIENT_SECRET),
      ),
      401,
      "invalid_client",
    );
  });
  await s.step("invalid_client when no client authentication is sent", async () => {
    await assertOAuthError(
      await t.requestToken({ grant_type: "client_credentials" }),
      401,
      "invalid_client",
    );
  });
  await s.step("invalid_request for two authentication methods at once", async () => {
    const response = await t.requestToken({
      grant_type: "client_credentials",
      client_secret: CLIENT_SECRET,
    }, t.basic(CLIENT_ID, CLIENT_SECRET));
    await assertOAuthError(response, 400, "invalid_request");
  });
  await s.step("invalid_request without grant_type", async () => {
    await assertOAuthError(
      await t.requestToken({}, t.basic(CLIENT_ID, CLIENT_SECRET)),
      400,
      "invalid_request",
    );
  });
  await s.step("unsupported_grant_type for anything but client_credentials", async () => {
    await assertOAuthError(
      await t.requestToken({ grant_type: "password" }, t.basic(CLIENT_ID, CLIENT_SECRET)),
      400,
      "unsupported_grant_type",
    );
  });
  await s.step("invalid_scope for a scope the client may not have", async () => {
    await assertOAuthError(
      await t.requestToken(
        { grant_type: "client_credentials", scope: "weather.read admin" },
        t.basic(CLIENT_ID, CLIENT_SECRET),
      ),
      400,
      "invalid_scope",
    );
  });
  await s.step("invalid_request for a JSON body", async () => {
    const response = await fetchWithin(new URL("/oauth/token", t.service.url), {
      method: "POST",
      headers: { "content-type": "application/json", ...t.basic(CLIENT_ID, CLIENT_SECRET) },
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    await assertOAuthError(response, 400, "invalid_request");
  });
  await s.step("invalid_request for a repeated parameter", async () => {
    const response = await fetchWithin(new URL("/oauth/token", t.service.url), {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...t.basic(CLIENT_ID, CLIENT_SECRET),
      },
      body: "grant_type=client_credentials&grant_type=client_credentials",
    });
    await assertOAuthError(response, 400, "invalid_request");
  });
  await s.step("405 with Allow for GET", async () => {
    const response = await fetchWithin(new URL("/oauth/token", t.service.url));
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    await response.body?.cancel();
  });
});

Deno.test("POST /oauth/token never refuses the right secret; failures past 10 a minute get 429", async () => {
  await using t = await setUp();
  const wrong = t.basic(CLIENT_ID, "guess-guess-guess");
  // The earlier test's failures were in another service; this one starts clean.
  for (let attempt = 0; attempt < 10; attempt++) {
    const response = await t.requestToken({ grant_type: "client_credentials" }, wrong);
    assert.equal(response.status, 401, `attempt ${attempt}`);
    await response.body?.cancel();
  }
  const allowed = await t.requestToken(
    { grant_type: "client_credentials" },
    t.basic(CLIENT_ID, CLIENT_SECRET),
  );
  assert.equal(allowed.status, 200);
  assert.equal((await allowed.json()).token_type, "Bearer");

  // Further failures: RFC 6749 §5.2's invalid_client, with 429 and Retry-After.
  const throttled = await t.requestToken({ grant_type: "client_credentials" }, wrong);
  assert.equal(throttled.headers.get("retry-after"), "60");
  await assertOAuthError(throttled, 429, "invalid_client");
  const stillAllowed = await t.requestToken({
    grant_type: "client_credentials",
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
  });
  assert.equal(stillAllowed.status, 200);
  await stillAllowed.body?.cancel();

  t.clock.advance(60_000);
  const afterWindow = await t.requestToken({ grant_type: "client_credentials" }, wrong);
  await assertOAuthError(afterWindow, 401, "invalid_client");
});

Deno.test("OAUTH_SIGNING_KEY from PEM, JWK or file: tokens survive a restart", async (s) => {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const jwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid: "configured-kid" });
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/signing.pem`, pem);
  const sources: [string, Record<string, string>][] = [
    ["PKCS#8 PEM", { OAUTH_SIGNING_KEY: pem }],
    ["private JWK", { OAUTH_SIGNING_KEY: jwk }],
    ["key file", { OAUTH_SIGNING_KEY_FILE: `${dir}/signing.pem`, CREDENTIALS_DIRECTORY: dir }],
  ];
  try {
    for (const [name, variables] of sources) {
      await s.step(name, async () => {
        await using first = await setUp(variables);
        await using second = await setUp(variables);
        const response = await first.requestToken(
          { grant_type: "client_credentials" },
          first.basic(CLIENT_ID, CLIENT_SECRET),
        );
        const { access_token } = await response.json();
        // Another instance (or the same one after a restart) accepts it.
        const answer = await second.callWeather(access_token);
        assert.equal(answer.status, 200);
        await answer.body?.cancel();
        if (name === "private JWK") {
          assert.equal(decodeProtectedHeader(access_token).kid, "configured-kid");
        }
        assert.ok(!first.service.logLines.some((line) => line.includes("was generated")));
        assert.ok(!first.service.logLines.join("\n").includes(pem.split("\n")[1]!));
      });
    }

    await s.step(
      "without a key one is generated, with a warning, and other instances refuse its tokens",
      async () => {
        await using first = await setUp();
        await using second = await setUp();
        const warning = await first.service.waitForLog("No OAUTH_SIGNING_KEY");
        assert.equal(warning.level, "warn");
        const response = await first.requestToken(
          { grant_type: "client_credentials" },
          first.basic(CLIENT_ID, CLIENT_SECRET),
        );
        const { access_token } = await response.json();
        const answer = await second.callWeather(access_token);
        assert.equal(answer.status, 401);
        await answer.body?.cancel();
      },
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
