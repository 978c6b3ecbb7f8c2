/**
 * `deno task bench`: the service against a bare Deno.serve handler, side by
 * side in one run, on loopback only. Prints one table and writes
 * BENCHMARKS.md. Scenarios:
 *
 *   floor  bare Deno.serve returning the same JSON
 *   (a)    hot path: one valid token, a cached city
 *   (b)    a fresh token on every request (each one verified)
 *   (c)    64 callers over 8 cities, OpenWeatherMap answering in 100 ms
 *   (d)    Basic auth, a cached city
 *   (e)    (a) with a shared store (Redis) configured: still answered from memory
 *   (f)    a miss in memory answered by the shared store (the city another
 *          instance fetched): one store round trip, counted by Redis itself
 *   cold   process start to the first 200: `deno serve serve.ts` (Basic auth,
 *          a real POST /data-action/weather) against a hello-world
 *          `deno serve`, interleaved, BENCH_COLD_RUNS times each (default 15)
 *
 * BENCH_DURATION_S (default 10) and BENCH_CONNECTIONS (default 64) tune it;
 * BENCH_ONLY=cold-start runs only the cold-start scenario.
 */

import autocannon from "autocannon";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startFakeOpenWeather, TEST_API_KEY } from "../tests/support/fake_openweather.ts";
import { taskArguments } from "../tests/support/process.ts";
import { type RedisServer, startRedis } from "../tests/support/redis.ts";

const DURATION_S = Number(Deno.env.get("BENCH_DURATION_S") ?? 10);
const CONNECTIONS = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64);
const FRESH_TOKENS = Number(Deno.env.get("BENCH_FRESH_TOKENS") ?? 20_000);
const COLD_RUNS = Number(Deno.env.get("BENCH_COLD_RUNS") ?? 15);
const ONLY_COLD_START = Deno.env.get("BENCH_ONLY") === "cold-start";
const ISSUER = "https://idp.bench.test/";
const AUDIENCE = "api://genesys-weather";
const encoder = new TextEncoder();

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

interface Server {
  url: string;
  pid: number;
  /** Milliseconds from spawn to the first 200 from /healthz (or /). */
  startMs: number;
  stop(): Promise<void>;
}

/** Spawns a server process with its output discarded, as a production log shipper would take it. */
async function spawn(
  args: string[],
  env: Record<string, string>,
  healthPath: string,
): Promise<Server> {
  const port = freePort();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { ...env, HOST: "127.0.0.1", PORT: String(port) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      const response = await fetch(url + healthPath);
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (performance.now() - started > 15_000) throw new Error(`${args.join(" ")} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return {
    url,
    pid: child.pid,
    startMs: performance.now() - started,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** Deno reads /proc only with --allow-all, so `cat` reads it for us. */
function readProc(path: string): string {
  const output = new Deno.Command("cat", { args: [path], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(output.stdout);
}

/** Peak resident set size of a process, from Linux's /proc (VmHWM). */
function peakRssMiB(pid: number): number {
  const status = readProc(`/proc/${pid}/status`);
  return Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? NaN) / 1024;
}

interface Row {
  scenario: string;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMiB: number;
  upstreamCalls: number | string;
}

const WEATHER_PATH = "/data-action/weather";

const upstream = startFakeOpenWeather();
const serviceEnv = {
  OPENWEATHER_API_KEY: TEST_API_KEY,
  OPENWEATHER_BASE_URL: upstream.url.href,
  LOG_LEVEL: "info",
};

// An identity provider for (a) and (b): a key set served from this process.
const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
const jwks = {
  keys: [{ ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256", use: "sig" }],
};
const keyHost = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () => Response.json(jwks),
);
const mint = (jti: string) =>
  new SignJWT({ scope: "weather.read", jti })
    .setProtectedHeader({ alg: "RS256", kid: "bench", typ: "JWT" })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject("genesys")
    .setIssuedAt().setExpirationTime("1h")
    .sign(privateKey);

const jwtEnv = {
  ...serviceEnv,
  AUTH_MODE: "jwt",
  AUTH_JWKS_URL: `http://127.0.0.1:${keyHost.addr.port}/jwks.json`,
  AUTH_ISSUER: ISSUER,
  AUTH_AUDIENCE: AUDIENCE,
};
const basicEnv = {
  ...serviceEnv,
  AUTH_MODE: "basic",
  BASIC_AUTH_USER: "genesys",
  BASIC_AUTH_PASSWORD: "bench-password",
};
const londonBody = JSON.stringify({ city_name: "London" });
const post = (headers: Record<string, string>, body = londonBody) => ({
  method: "POST" as const,
  headers: { "content-type": "application/json", ...headers },
  body,
});

const rows: Row[] = [];

/** Thrown to skip the throughput scenarios under BENCH_ONLY=cold-start. */
class SkipThroughput extends Error {}
const startTimes: Record<string, number> = {};
let storeUse: { requests: number; commands: number; misses: number } | undefined;

async function measure(
  scenario: string,
  server: Server,
  options: Partial<autocannon.Options>,
  countUpstream: boolean,
): Promise<number> {
  const callsBefore = upstream.requests.length;
  const url = server.url + WEATHER_PATH;
  // Warm up: first calls fill caches and compile the hot code.
  const warmUp = await autocannon({ url, connections: 8, ...options, amount: 2_000 });
  // A scenario runs for BENCH_DURATION_S, unless it says how many requests to send.
  const length = options.amount === undefined ? { duration: DURATION_S } : {};
  const result = await autocannon({ url, connections: CONNECTIONS, ...length, ...options });
  const errors = result.errors + result.non2xx + result.timeouts;
  // A scenario whose requests fail measures the failure, not the service.
  if (errors > 0) {
    throw new Error(`${scenario}: ${errors} failed requests (${result.non2xx} non-2xx)`);
  }
  rows.push({
    scenario,
    requestsPerS: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    peakRssMiB: peakRssMiB(server.pid),
    upstreamCalls: countUpstream ? upstream.requests.length - callsBefore : "-",
  });
  // deno-lint-ignore no-console
  console.error(`done: ${scenario}`);
  return warmUp.requests.total + result.requests.total;
}

/** Commands Redis has run so far, from its own statistics: all (INFO itself not counted), and MGETs. */
async function redisCommands(redis: RedisServer): Promise<{ all: number; mget: number }> {
  const info = await redis.command("INFO", "commandstats");
  const calls = [...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
    .filter(([, command]) => command !== "info");
  return {
    all: calls.reduce((sum, [, , count]) => sum + Number(count), 0),
    mget: Number(calls.find(([, command]) => command === "mget")?.[2] ?? 0),
  };
}

interface ColdStart {
  helloMs: number[];
  serviceMs: number[];
}

/**
 * Milliseconds from spawning `args` to its first 200 for `request`, polling
 * every millisecond; the process is killed once it has answered.
 */
async function timeToFirstAnswer(
  args: (port: number) => string[],
  env: Record<string, string>,
  request: (port: number) => Request,
): Promise<number> {
  const port = freePort();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: args(port),
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (;;) {
      try {
        const response = await fetch(request(port));
        await response.body?.cancel();
        if (response.status === 200) return performance.now() - started;
      } catch { /* not listening yet */ }
      if (performance.now() - started > 15_000) {
        throw new Error(`${args(port).join(" ")} did not answer`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/** `deno serve serve.ts` against a hello-world `deno serve`, run by turns so both see the same machine. */
async function measureColdStart(): Promise<ColdStart> {
  const cache = Object.fromEntries(
    ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"].flatMap((name) => {
      const value = Deno.env.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
  const hello = new URL("hello_serve.ts", import.meta.url).pathname;
  const listen = (port: number) => ["--host", "127.0.0.1", "--port", String(port)];
  const result: ColdStart = { helloMs: [], serviceMs: [] };
  for (let run = 0; run < COLD_RUNS; run++) {
    result.helloMs.push(
      await timeToFirstAnswer(
        (port) => ["serve", ...listen(port), hello],
        cache,
        (port) => new Request(`http://127.0.0.1:${port}/`),
      ),
    );
    result.serviceMs.push(
      await timeToFirstAnswer(
        (port) => taskArguments("serve", listen(port)),
        { ...cache, ...basicEnv },
        (port) =>
          new Request(`http://127.0.0.1:${port}${WEATHER_PATH}`, {
            ...post({ authorization: `Basic ${btoa("genesys:bench-password")}` }),
          }),
      ),
    );
  }
  return result;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

try {
  if (ONLY_COLD_START) throw new SkipThroughput();
  const bare = await spawn(
    ["run", "--allow-net", "--allow-env=PORT", new URL("bare_server.ts", import.meta.url).pathname],
    {},
    "/",
  );
  startTimes.bare = bare.startMs;
  await measure("floor: bare Deno.serve, same JSON", bare, { ...post({}) }, false);
  await bare.stop();

  const jwtService = await spawn(taskArguments("start"), jwtEnv, "/readyz");
  startTimes.service = jwtService.startMs;
  const token = await mint("hot");
  await measure("(a) hot path: one token, cached city", jwtService, {
    ...post({ authorization: `Bearer ${token}` }),
  }, true);

  // The warm-up's 2,000 requests use tokens too.
  const fresh = await Promise.all(
    Array.from({ length: FRESH_TOKENS + 2_000 }, (_, i) => mint(`fresh-${i}`)),
  );
  let next = 0;
  // Exactly as many requests as unused tokens: every one is verified, none is a cache hit.
  await measure("(b) a fresh token per request", jwtService, {
    ...post({}),
    amount: FRESH_TOKENS,
    requests: [{
      setupRequest: (request: autocannon.Request) => ({
        ...request,
        headers: { ...request.headers, authorization: `Bearer ${fresh[next++ % fresh.length]}` },
      }),
    }],
  }, true);
  await jwtService.stop();

  // (c): OpenWeatherMap slow; many callers over few cities, against a cold cache.
  upstream.respondWith(async (_request, url) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const city = url.searchParams.get("q") ?? "";
    return Response.json({
      weather: [{ id: 500, description: "light rain" }],
      main: { temp: 11 },
      name: city,
      cod: 200,
    });
  });
  const slowUpstream = await spawn(taskArguments("start"), jwtEnv, "/readyz");
  const cities = Array.from({ length: 8 }, (_, i) => JSON.stringify({ city_name: `City ${i}` }));
  let city = 0;
  await measure("(c) 64 callers, 8 cities, upstream 100 ms", slowUpstream, {
    ...post({ authorization: `Bearer ${token}` }),
    requests: [{
      setupRequest: (request: autocannon.Request) => ({
        ...request,
        body: cities[city++ % cities.length],
      }),
    }],
  }, true);
  await slowUpstream.stop();
  upstream.respondWith(undefined);

  const basic = await spawn(taskArguments("start"), basicEnv, "/readyz");
  await measure("(d) Basic auth, cached city", basic, {
    ...post({ authorization: `Basic ${btoa("genesys:bench-password")}` }),
  }, true);
  await basic.stop();

  // (e) and (f): the shared store. Redis writes nothing (no saving), so its directory is this one.
  const redis = await startRedis({ dir: Deno.cwd() });
  // Every city exists, so (f) measures weather answers, not cached not-founds.
  upstream.respondWith((_request, url) =>
    Response.json({
      weather: [{ id: 500, description: "light rain" }],
      main: { temp: 11 },
      name: url.searchParams.get("q") ?? "",
      cod: 200,
    })
  );
  try {
    const storeEnv = { ...jwtEnv, SHARED_STORE_URL: redis.url };
    const first = await spawn(taskArguments("start"), storeEnv, "/readyz");
    await measure("(e) hot path, shared store configured", first, {
      ...post({ authorization: `Bearer ${token}` }),
    }, true);
    // The first instance fetches 8 cities; the second remembers one entry at a time, so
    // every ask of it is a miss in memory that the store answers.
    for (const body of cities) {
      const response = await fetch(first.url + WEATHER_PATH, {
        ...post({ authorization: `Bearer ${token}` }, body),
      });
      await response.body?.cancel();
    }
    const second = await spawn(
      taskArguments("start"),
      { ...storeEnv, WEATHER_CACHE_MAX_ENTRIES: "1" },
      "/readyz",
    );
    const commandsBefore = await redisCommands(redis);
    let nextCity = 0;
    const requests = await measure("(f) miss in memory, answered by the shared store", second, {
      ...post({ authorization: `Bearer ${token}` }),
      requests: [{
        setupRequest: (request: autocannon.Request) => ({
          ...request,
          body: cities[nextCity++ % cities.length],
        }),
      }],
    }, true);
    const commandsAfter = await redisCommands(redis);
    // Each miss in memory is one refresh, which reads the store with one MGET.
    storeUse = {
      requests,
      commands: commandsAfter.all - commandsBefore.all,
      misses: commandsAfter.mget - commandsBefore.mget,
    };
    await second.stop();
    await first.stop();
  } finally {
    upstream.respondWith(undefined);
    await redis.stop();
  }
} catch (error) {
  if (!(error instanceof SkipThroughput)) throw error;
}

let coldStart: ColdStart;
try {
  coldStart = await measureColdStart();
} finally {
  await keyHost.shutdown();
  await upstream.close();
}

const cpu = readProc("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ??
  "unknown CPU";
const machine =
  `${navigator.hardwareConcurrency} cores (${cpu}), ${
    (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(0)
  } GiB, ` +
  `Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}`;

/** Each block of BENCHMARKS.md between its two markers, replaced by this run's. */
const blocks: Record<string, string> = {};

if (!ONLY_COLD_START) {
  const floor = rows[0]!.requestsPerS;
  const header =
    "| scenario | req/s | vs floor | p50 ms | p99 ms | peak RSS MiB | upstream calls |";
  const table = [
    header,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| ${row.scenario} | ${Math.round(row.requestsPerS)} | ${
        Math.round((row.requestsPerS / floor) * 100)
      } % | ` +
      `${row.p50Ms} | ${row.p99Ms} | ${row.peakRssMiB.toFixed(1)} | ${row.upstreamCalls} |`
    ),
  ].join("\n");
  const summary = [
    `Run ${new Date().toISOString()} on ${machine}.`,
    `${CONNECTIONS} connections, ${DURATION_S} s per scenario, after a 2,000-request warm-up; load from autocannon in the same run, on loopback. Every request answered 2xx (the run fails otherwise).`,
    `Shared store (Redis on loopback): (e) is (a) with SHARED_STORE_URL set. In (f), ${storeUse?.requests} requests made ${storeUse?.misses} misses in memory (concurrent ones for a city share one), which cost ${storeUse?.commands} Redis commands: ${
      storeUse ? (storeUse.commands / storeUse.misses).toFixed(2) : "?"
    } per miss, i.e. one store round trip.`,
    `Start to first answer: service ${
      Math.round(startTimes.service!)
    } ms (process spawn to a 200 from /readyz), bare handler ${Math.round(startTimes.bare!)} ms.`,
  ].join("\n");
  blocks["bench:results"] = `${table}\n\n${summary}`;
}

const helloMedian = median(coldStart.helloMs);
const serviceMedian = median(coldStart.serviceMs);
const range = (values: number[]) =>
  `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}`;
blocks["bench:cold-start"] = [
  "| entry | median ms | range ms |",
  "| --- | ---: | ---: |",
  `| hello-world \`deno serve\` ([scripts/hello_serve.ts](scripts/hello_serve.ts)) | ${
    Math.round(helloMedian)
  } | ${range(coldStart.helloMs)} |`,
  `| \`deno serve serve.ts\` (\`deno task serve\`), Basic auth, POST /data-action/weather | ${
    Math.round(serviceMedian)
  } | ${range(coldStart.serviceMs)} |`,
  "",
  `Ratio ${
    (serviceMedian / helloMedian).toFixed(1)
  }× (goal: at most 4×). ${COLD_RUNS} runs of each, taken by turns, on ${machine}, ${
    new Date().toISOString()
  }. Process spawn to the first 200, polling every millisecond, warm module cache.`,
].join("\n");

const report = Object.values(blocks).join("\n\n");
Deno.stdout.writeSync(encoder.encode(`\n${report}\n`));
const path = new URL("../BENCHMARKS.md", import.meta.url);
let document = (() => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "# Benchmarks\n";
  }
})();
for (const [name, content] of Object.entries(blocks)) {
  const marker = `<!-- ${name} -->`;
  const block = `${marker}\n\n${content}\n\n${marker}`;
  document = document.includes(marker)
    ? document.replace(new RegExp(`${marker}[\\s\\S]*${marker}`), block)
    : `${document.trimEnd()}\n\n${block}\n`;
}
Deno.writeTextFileSync(path, document);
// Keep the file as `deno fmt --check` (and so CI) expects it.
await new Deno.Command(Deno.execPath(), { args: ["fmt", path.pathname], stderr: "null" }).output();
