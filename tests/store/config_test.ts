import assert from "node:assert/strict";
import { secretValues } from "../../src/config.ts";
import { describeConfig } from "../../src/service.ts";
import { startFakeOpenWeather, TEST_API_KEY } from "../support/fake_openweather.ts";
import { postWeather, spawnService } from "../support/process.ts";
import { configProblems, loadConfigFrom } from "../support/config.ts";
import { freePort } from "../support/free_port.ts";
import { fetchWithin } from "../support/wait.ts";

const MINIMAL = { OPENWEATHER_API_KEY: TEST_API_KEY, AUTH_MODE: "none" };
const PASSWORD = "s3cret-redis-password";

/** Every case starts from a configuration that is valid without a store. */
const load = (variables: Record<string, string>) => loadConfigFrom({ ...MINIMAL, ...variables });
const problemsOf = (variables: Record<string, string>) =>
  configProblems({ ...MINIMAL, ...variables });

Deno.test("loadConfig() reads SHARED_STORE_URL for Redis and Deno KV", async (t) => {
  await t.step("unset: no store, the documented defaults", () => {
    const { sharedStore } = load({});
    assert.equal(sharedStore.target, undefined);
    assert.equal(sharedStore.prefix, "genesys-weather:");
    assert.equal(sharedStore.timeoutMs, 150);
    assert.equal(sharedStore.instances, 2);
  });
  const cases: [string, Record<string, string>, unknown][] = [
    ["redis://", { SHARED_STORE_URL: "redis://127.0.0.1:6379" }, {
      kind: "redis",
      connection: "redis://127.0.0.1:6379",
      location: "redis://127.0.0.1:6379",
    }],
    ["rediss:// with user, password and database", {
      SHARED_STORE_URL: `rediss://default:${PASSWORD}@cache.example.test:6380/2`,
    }, {
      kind: "redis",
      connection: `rediss://default:${PASSWORD}@cache.example.test:6380/2`,
      location: "rediss://default:[REDACTED]@cache.example.test:6380/2",
    }],
    ["kv: (Deno Deploy's own KV)", { SHARED_STORE_URL: "kv:" }, {
      kind: "kv",
      connection: undefined,
      location: "kv: (Deno.openKv())",
    }],
    ["kv:<file>", { SHARED_STORE_URL: "kv:/var/lib/weather/kv.sqlite3" }, {
      kind: "kv",
      connection: "/var/lib/weather/kv.sqlite3",
      location: "kv:/var/lib/weather/kv.sqlite3",
    }],
    ["https:// (denokv) with its token", {
      SHARED_STORE_URL: "https://kv.example.test/",
      DENO_KV_ACCESS_TOKEN: "a-denokv-access-token",
    }, {
      kind: "kv",
      connection: "https://kv.example.test/",
      location: "https://kv.example.test/",
    }],
  ];
  for (const [name, variables, target] of cases) {
    await t.step(name, () => assert.deepEqual(load(variables).sharedStore.target, target));
  }
});

Deno.test("loadConfig() refuses a malformed SHARED_STORE_URL without quoting it", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["not a URL", `${PASSWORD} nonsense`, /^SHARED_STORE_URL must be a redis:\/\//],
    ["another scheme", `memcached://u:${PASSWORD}@host:11211`, /^SHARED_STORE_URL must be a/],
    ["no host", "redis://", /^SHARED_STORE_URL must be a/],
    ["a path that is no database", `redis://:${PASSWORD}@host/x`, /database number/],
    ["a query", `redis://:${PASSWORD}@host?tls=1`, /query or fragment/],
    ["credentials in a denokv URL", `https://u:${PASSWORD}@kv.example.test/`, /must not contain/],
    ["a denokv URL without its token", "https://kv.example.test/", /DENO_KV_ACCESS_TOKEN/],
    ["a kv: path that is not percent-encoding", "kv:/var/lib/%zz", /kv: path/],
  ];
  for (const [name, url, expected] of cases) {
    await t.step(name, () => {
      const problems = problemsOf({ SHARED_STORE_URL: url });
      assert.equal(problems.length, 1, problems.join("; "));
      assert.match(problems[0]!, expected);
      assert.ok(!problems[0]!.includes(PASSWORD));
    });
  }
  await t.step("SHARED_STORE_TIMEOUT_MS and SHARED_STORE_INSTANCES are bounded", () => {
    assert.match(problemsOf({ SHARED_STORE_TIMEOUT_MS: "0" })[0]!, /from 10 to 5000/);
    assert.match(problemsOf({ SHARED_STORE_INSTANCES: "0" })[0]!, /from 1 to 1000/);
    assert.match(
      problemsOf({ OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: "0" })[0]!,
      /from 1 to 100/,
    );
  });
});

Deno.test("describeConfig() shows where the store is, never its password", () => {
  const config = load({ SHARED_STORE_URL: `redis://weather:${PASSWORD}@cache.example.test:6379` });
  const described = describeConfig(config) as {
    sharedStore: { target: { connection: string; location: string } };
  };
  assert.equal(described.sharedStore.target.connection, "[REDACTED]");
  assert.equal(
    described.sharedStore.target.location,
    "redis://weather:[REDACTED]@cache.example.test:6379",
  );
  assert.ok(!JSON.stringify(described).includes(PASSWORD));
  // The password alone is redacted too, wherever a client's message might quote it.
  assert.ok(secretValues(config).includes(PASSWORD));

  // A URL without credentials is only an address, shown as it is.
  const open = load({ SHARED_STORE_URL: "redis://cache.example.test:6379/1" });
  assert.deepEqual((describeConfig(open) as { sharedStore: unknown }).sharedStore, {
    target: {
      kind: "redis",
      connection: "redis://cache.example.test:6379/1",
      location: "redis://cache.example.test:6379/1",
    },
    prefix: "genesys-weather:",
    timeoutMs: 150,
    instances: 2,
  });
  assert.deepEqual(secretValues(open), [TEST_API_KEY]);
});

Deno.test("main.ts with a malformed SHARED_STORE_URL stops at start, quoting nothing of it", async () => {
  await using service = spawnService({ ...MINIMAL, SHARED_STORE_URL: `redis//:${PASSWORD}@host` });
  const { code, stderr } = await service.waitForExit();
  assert.equal(code, 1);
  assert.equal(stderr, "");
  assert.match(String(service.lines[0]!.msg), /SHARED_STORE_URL must be a redis:\/\//);
  assert.ok(!JSON.stringify(service.lines).includes(PASSWORD));
});

Deno.test("main.ts starts and answers while the store at SHARED_STORE_URL is unreachable", async () => {
  await using upstream = startFakeOpenWeather();
  const port = freePort();
  await using service = spawnService({
    ...MINIMAL,
    OPENWEATHER_BASE_URL: upstream.url.href,
    HOST: "127.0.0.1",
    PORT: "0",
    SHARED_STORE_URL: `redis://:${PASSWORD}@127.0.0.1:${port}`,
  });
  const url = await service.listening(15_000);
  const response = await postWeather(url, "London");
  assert.equal(response.status, 200);
  assert.equal((await response.json()).city, "London");
  const ready = await fetchWithin(new URL("/readyz", url));
  assert.equal(ready.status, 200);
  await ready.body?.cancel();
  const configuration = service.lines.find((line) => line.msg === "Configuration")!;
  assert.deepEqual((configuration.sharedStore as Record<string, unknown>).target, {
    kind: "redis",
    connection: "[REDACTED]",
    location: `redis://:[REDACTED]@127.0.0.1:${port}`,
  });
  assert.ok(!JSON.stringify(service.lines).includes(PASSWORD));
  assert.equal(
    service.lines.filter((line) => String(line.msg).startsWith("Shared store unavailable"))
      .length,
    1,
  );
});
