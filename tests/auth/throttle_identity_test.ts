/**
 * The failed-login throttle against a client that chooses how its address
 * reaches the service, through real HTTP. The requests come from 127.0.0.1,
 * listed in TRUSTED_PROXIES, so the forwarding headers below are what a proxy
 * in front would have written (and passed on).
 */

import assert from "node:assert/strict";
import { startFakeOpenWeather, TEST_API_KEY } from "../support/fake_openweather.ts";
import { spawnService } from "../support/process.ts";
import { type RunningService, startService } from "../support/service.ts";
import { fetchWithin } from "../support/wait.ts";

const USER = "genesys";
const PASSWORD = "correct horse battery staple";
/** Past this many failures a minute from one key the answer is 429 (src/service.ts). */
const MAX_FAILURES = 10;

async function startBehindProxy(
  upstream: URL,
  variables: Record<string, string> = {},
): Promise<RunningService> {
  return await startService({
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: USER,
    BASIC_AUTH_PASSWORD: PASSWORD,
    OPENWEATHER_BASE_URL: upstream.href,
    TRUSTED_PROXIES: "127.0.0.1",
    LOG_LEVEL: "warn",
    ...variables,
  });
}

/** One wrong password with these forwarding headers; the status it got. */
async function wrongPassword(
  service: RunningService,
  headers: Record<string, string>,
  user = USER,
): Promise<number> {
  const response = await service.post("/data-action/weather", { city_name: "London" }, {
    headers: {
      "content-type": "application/json",
      authorization: `Basic ${btoa(`${user}:wrong-password`)}`,
      ...headers,
    },
  });
  await response.body?.cancel();
  return response.status;
}

/**
 * Sends one failure per header set, in order, and returns the statuses: one
 * client, however it is spelled, gets 401 ten times and then 429.
 */
async function statuses(
  service: RunningService,
  headerSets: readonly Record<string, string>[],
): Promise<number[]> {
  const answers: number[] = [];
  for (const headers of headerSets) answers.push(await wrongPassword(service, headers));
  return answers;
}

const TEN_401_THEN_429 = [...Array(MAX_FAILURES).fill(401), 429];

Deno.test("the failed-login throttle reads only the header TRUSTED_PROXY_HEADER names", async (s) => {
  await using upstream = startFakeOpenWeather();
  await s.step(
    "forwarded: an X-Forwarded-For the client sent through the proxy cannot pick the key",
    async () => {
      await using service = await startBehindProxy(upstream.url, {
        TRUSTED_PROXY_HEADER: "forwarded",
      });
      const requests = Array.from({ length: MAX_FAILURES + 1 }, (_, i) => ({
        forwarded: "for=203.0.113.7;proto=https",
        "x-forwarded-for": `198.51.100.${i}`,
      }));
      assert.deepEqual(await statuses(service, requests), TEN_401_THEN_429);
    },
  );
  await s.step(
    "x-forwarded-for (the default): a Forwarded the client sent is ignored",
    async () => {
      await using service = await startBehindProxy(upstream.url);
      const requests = Array.from({ length: MAX_FAILURES + 1 }, (_, i) => ({
        "x-forwarded-for": "203.0.113.7",
        forwarded: `for=198.51.100.${i}`,
      }));
      assert.deepEqual(await statuses(service, requests), TEN_401_THEN_429);
    },
  );
});

Deno.test("the failed-login throttle counts one client once, however its address is spelled", async (s) => {
  await using upstream = startFakeOpenWeather();
  await s.step("IPv4: mapped into IPv6, hexadecimal, in brackets, padded with zeros", async () => {
    await using service = await startBehindProxy(upstream.url);
    const spellings = [
      "203.0.113.7",
      "::ffff:203.0.113.7",
      "::FFFF:cb00:7107",
      "[::ffff:203.0.113.7]",
      "0:0:0:0:0:ffff:203.0.113.7",
      "0000:0000:0000:0000:0000:ffff:cb00:7107",
      " 203.0.113.7 ",
      "::ffff:203.0.113.7",
      "[::ffff:cb00:7107]",
      "203.0.113.7",
      "::ffff:cb00:7107",
    ];
    const requests = spellings.map((spelling) => ({ "x-forwarded-for": spelling }));
    assert.deepEqual(await statuses(service, requests), TEN_401_THEN_429);
  });
  await s.step("IPv6 with zone ids, in capitals and padded, in X-Forwarded-For", async () => {
    await using service = await startBehindProxy(upstream.url);
    const spellings = [
      "fe80::7%eth0",
      "fe80::7%1",
      "FE80:0000:0000:0000:0000:0000:0000:0007%eth1",
      "[fe80::7%25]",
      "fe80::7%2",
      "fe80::7%3",
      "fe80:0::7%4",
      "fe80::7%5",
      "fe80::7%6",
      "fe80::7%7",
      "fe80::7%lo",
    ];
    const requests = spellings.map((spelling) => ({ "x-forwarded-for": spelling }));
    assert.deepEqual(await statuses(service, requests), TEN_401_THEN_429);
  });
  await s.step("IPv6 with zone ids in Forwarded", async () => {
    await using service = await startBehindProxy(upstream.url, {
      TRUSTED_PROXY_HEADER: "forwarded",
    });
    const requests = Array.from({ length: MAX_FAILURES + 1 }, (_, i) => ({
      forwarded: `for="[2001:db8:1:2::7%25eth${i}]:4711";proto=https`,
    }));
    assert.deepEqual(await statuses(service, requests), TEN_401_THEN_429);
  });
});

Deno.test("the failed-login throttle counts an IPv6 client per /64, an IPv4 one per address", async (s) => {
  await using upstream = startFakeOpenWeather();
  await using service = await startBehindProxy(upstream.url);
  await s.step("eleven addresses of one /64: the eleventh failure is 429", async () => {
    // A host picks its own interface id (privacy addresses): one /64 is one client.
    const requests = Array.from({ length: MAX_FAILURES + 1 }, (_, i) => ({
      "x-forwarded-for": `2001:db8:1:2:${((0x1000 + i * 7919) % 0x10000).toString(16)}:${i}:abcd:${
        i + 1
      }`,
    }));
    assert.deepEqual(await statuses(service, requests), TEN_401_THEN_429);
  });
  await s.step("the next /64 has its own count", async () => {
    assert.equal(await wrongPassword(service, { "x-forwarded-for": "2001:db8:1:3::1" }), 401);
  });
  await s.step("neighbouring IPv4 addresses have their own counts", async () => {
    for (let i = 0; i < MAX_FAILURES; i++) {
      assert.equal(await wrongPassword(service, { "x-forwarded-for": "198.51.100.1" }), 401);
    }
    assert.equal(await wrongPassword(service, { "x-forwarded-for": "198.51.100.2" }), 401);
    assert.equal(await wrongPassword(service, { "x-forwarded-for": "198.51.100.1" }), 429);
  });
});

Deno.test("2,000 failures with 50 KB forwarded values grow the service's RSS by under 32 MiB", async () => {
  await using upstream = startFakeOpenWeather();
  // Its own process, under the start task's flags: the test runner's RSS is shared by every
  // test file running alongside. Nothing forces a GC there, so this is the stricter figure.
  await using service = spawnService({
    OPENWEATHER_API_KEY: TEST_API_KEY,
    OPENWEATHER_BASE_URL: upstream.url.href,
    AUTH_MODE: "basic",
    BASIC_AUTH_USER: USER,
    BASIC_AUTH_PASSWORD: PASSWORD,
    TRUSTED_PROXIES: "127.0.0.1",
    HOST: "127.0.0.1",
    PORT: "0",
  });
  const url = await service.listening();
  const filler = "a".repeat(50 * 1024);
  /**
   * Failure `i`: a user name of its own (so every failure is a fresh key,
   * answered at once), 4 KB long, and a 50 KB forwarded value of its own: a
   * zone id, plain or bracketed, or a chain of trusted hops. (Deno refuses a
   * request whose headers pass 64 KB: 50 KB is about the most one carries.)
   */
  const failure = async (i: number) => {
    const forwarded = [
      `fe80::${(i % 0xffff).toString(16)}%${i}${filler}`,
      `[2001:db8::${(i % 0xffff).toString(16)}%25${i}${filler}]`,
      `203.0.113.${i % 256}${", 127.0.0.1".repeat(4_700)}`,
    ][i % 3]!;
    const response = await fetchWithin(new URL("/data-action/weather", url), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Basic ${btoa(`guess-${i}-${filler.slice(0, 4096)}:wrong-password`)}`,
        "x-forwarded-for": forwarded,
      },
      body: JSON.stringify({ city_name: "London" }),
    });
    await response.body?.cancel();
    return response.status;
  };
  const run = async (from: number, count: number) => {
    for (let i = from; i < from + count; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, j) => failure(i + j)));
      assert.deepEqual(batch, batch.map(() => 401));
    }
  };
  const rss = async () => {
    const text = await (await fetchWithin(new URL("/metrics", url))).text();
    return Number(text.match(/^process_resident_memory_bytes (\d+)$/m)?.[1]);
  };
  await run(0, 200); // Warm up: buffers allocated, code compiled.
  const before = await rss();
  assert.ok(before > 0, "process_resident_memory_bytes is exported");
  await run(200, 2_000);
  const growthMiB = (await rss() - before) / 1024 / 1024;
  assert.ok(growthMiB < 32, `RSS grew by ${growthMiB.toFixed(1)} MiB over 2,000 failures`);
});
