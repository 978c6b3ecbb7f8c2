/**
 * `deno task bench`: the service against two floors, side by side in one run,
 * on loopback only, with wrk as the load generator (scripts/bench_load.ts).
 * Prints its blocks and writes them into BENCHMARKS.md.
 *
 * Hot path, interleaved: six servers start up front and run at once.
 *   bare floor   Deno.serve answering the same JSON with only content-type
 *   fair floor   the endpoint's unavoidable work (scripts/fair_floor_server.ts),
 *                twice: fed the Basic request, and fed the JWT one
 *   (a)          the service, Basic auth (a cached credential), cached city,
 *                at LOG_LEVEL=warn, and at LOG_LEVEL=info with its access log
 *                written to a file; and one JWT (a cached verification)
 * After a warm-up, BENCH_ROUNDS rounds (default 5) measure each server for
 * BENCH_DURATION_S seconds (default 10) in turn, the order reversed every
 * other round; the report takes medians. Every request carries the same
 * headers and body for all of them (JWT: its token instead of Basic), and
 * each service is compared with the fair floor fed the same request.
 *
 * Then, once each, in a fresh process:
 *   (b)    a fresh token on every request (each one verified)
 *   (c)    64 callers over 8 cities, OpenWeatherMap answering in 100 ms
 *   (e)    (a) with a shared store (Redis) configured: still answered from memory
 *   (f)    a miss in memory answered by the shared store (the city another
 *          instance fetched): one store round trip, counted by Redis itself
 *   cold   process start to the first 200: `deno serve serve.ts` (Basic auth,
 *          a real POST /data-action/weather) against a hello-world
 *          `deno serve`, interleaved, BENCH_COLD_RUNS times each (default 15)
 *
 * BENCH_REVISIONS="before=46b5dd6,after=HEAD" adds, to the interleaved rounds,
 * the service of each named git revision (Basic auth, LOG_LEVEL=info, as
 * (a)), each started from its own temporary worktree: a change is measured
 * against the code before it in the same run (BENCHMARKS.md, "Revisions").
 *
 * Last, the contact-centre day (scripts/bench_day.ts): an hour of a large
 * organisation's questions at 10× speed (6 minutes), cold caches, an upstream
 * with realistic latency and one outage, sent at once to the service with
 * and without refresh-ahead, two instances sharing Redis, and the tutorial's
 * uncached app; what callers waited for and what OpenWeatherMap was asked.
 *
 * BENCH_CONNECTIONS (default 64), BENCH_WARMUP_S (default 3, at most
 * BENCH_DURATION_S), BENCH_FRESH_TOKENS (default 2,000) and
 * BENCH_LOAD_GENERATOR (wrk, or autocannon to force the fallback) tune it;
 * BENCH_ONLY=cold-start or BENCH_ONLY=contact-centre-day runs only that
 * scenario. Linux only: CPU time and memory come from /proc.
 */

import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startFakeOpenWeather, TEST_API_KEY } from "../tests/support/fake_openweather.ts";
import { taskArguments } from "../tests/support/process.ts";
import { type RedisServer, startRedis } from "../tests/support/redis.ts";
import {
  chooseLoadGenerator,
  type LoadGenerator,
  type LoadRequest,
  type LoadResult,
  note,
} from "./bench_load.ts";
import { freePort } from "../tests/support/free_port.ts";
import { CORRELATION_HEADER, WEATHER_PATH } from "../src/edge/handler.ts";
import { runContactCentreDay } from "./bench_day.ts";

function positiveInteger(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number of 1 or more, not "${raw}"`);
  }
  return value;
}

const DURATION_S = positiveInteger("BENCH_DURATION_S", 10);
const ROUNDS = positiveInteger("BENCH_ROUNDS", 5);
const WARMUP_S = positiveInteger("BENCH_WARMUP_S", Math.min(3, DURATION_S));
const CONNECTIONS = positiveInteger("BENCH_CONNECTIONS", 64);
const FRESH_TOKENS = Math.max(2, positiveInteger("BENCH_FRESH_TOKENS", 2_000));
const COLD_RUNS = positiveInteger("BENCH_COLD_RUNS", 15);
/** BENCH_ONLY: one scenario alone, or (unset) all of them. */
const ONLY = Deno.env.get("BENCH_ONLY");
if (ONLY !== undefined && ONLY !== "cold-start" && ONLY !== "contact-centre-day") {
  throw new Error(`BENCH_ONLY must be "cold-start" or "contact-centre-day", not "${ONLY}"`);
}
const ISSUER = "https://idp.bench.test/";
const AUDIENCE = "api://genesys-weather";
/**
 * The guard rail of issue 20: readable code first, as long as the hot path
 * keeps this share of the fair floor, this p99 and this memory, and the cold
 * start stays within this multiple of a hello-world `deno serve`.
 */
const GOAL = {
  fairFloorShare: 0.6,
  p99Ms: 10,
  p99Connections: 64,
  peakRssMiB: 90,
  coldStartRatio: 3,
};

/** `label=revision` pairs (or bare revisions, labelled by themselves) from BENCH_REVISIONS. */
const REVISIONS = (Deno.env.get("BENCH_REVISIONS") ?? "").split(",").map((item) => item.trim())
  .filter((item) => item !== "").map((item) => {
    const [label, revision] = item.includes("=") ? item.split("=", 2) : [item, item];
    return { label: label!, revision: revision! };
  });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// --- /proc ------------------------------------------------------------------

/** Deno reads /proc only with --allow-all, so `cat` reads it for us. */
function readProc(path: string): string {
  const output = new Deno.Command("cat", { args: [path], stdout: "piped" }).outputSync();
  return decoder.decode(output.stdout);
}

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
const TICKS_PER_S = Number(
  decoder.decode(
    new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).outputSync().stdout,
  ).trim(),
) || 100;

/**
 * CPU time a process has used, in clock ticks, over all its threads: user
 * plus system (proc(5) fields 14 and 15), and with `reapedChildren` its
 * waited-for children's too (16 and 17).
 */
function cpuTicks(pid: number, reapedChildren = false): number {
  const stat = readProc(`/proc/${pid}/stat`);
  // Fields after the command name, which may hold spaces: the first is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  const [utime, stime, cutime, cstime] = fields.slice(11, 15) as [number, number, number, number];
  return utime + stime + (reapedChildren ? cutime + cstime : 0);
}

/** VmRSS (resident now) or VmHWM (the peak so far) of a process, in MiB. */
function memoryMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readProc(`/proc/${pid}/status`);
  const kib = status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1];
  if (kib === undefined) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(kib) / 1024;
}

// --- servers ----------------------------------------------------------------

interface Server {
  readonly label: string;
  readonly url: string;
  /** The Deno process itself (the shell that started it exec'd into it). */
  readonly pid: number;
  /** Milliseconds from spawn to the first 200 from its readiness probe. */
  readonly startMs: number;
  /** Where its stdout goes: a real file, as a log shipper would read one. */
  readonly stdoutPath: string;
  stop(): Promise<void>;
}

let workDir = "";
let spawned = 0;

/**
 * Starts `deno <args>` with stdout and stderr in files of the work directory,
 * and waits until `probe` answers 200. The process is started by `sh -c
 * 'exec ...'`, so the redirection is the shell's and the pid is Deno's.
 */
async function spawn(
  label: string,
  args: string[],
  env: Record<string, string>,
  probe: (url: string) => Request,
): Promise<Server> {
  const port = freePort();
  const stem = `${workDir}/${String(++spawned).padStart(2, "0")}`;
  const [stdoutPath, stderrPath] = [`${stem}.stdout.log`, `${stem}.stderr.log`];
  const started = performance.now();
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'out=$1 err=$2; shift 2; exec "$@" >"$out" 2>"$err"',
      "sh",
      stdoutPath,
      stderrPath,
      Deno.execPath(),
      ...args,
    ],
    env: { ...env, HOST: "127.0.0.1", PORT: String(port) },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const url = `http://127.0.0.1:${port}`;
  const failed = async (why: string) => {
    if (!exited) child.kill("SIGKILL");
    await status;
    const stderr = await Deno.readTextFile(stderrPath).catch(() => "");
    return new Error(`${label}: ${why}\n${stderr.slice(-2_000)}`);
  };
  for (;;) {
    if (exited) throw await failed("exited at start");
    try {
      const response = await fetch(probe(url));
      await response.body?.cancel();
      if (response.status === 200) break;
    } catch { /* not listening yet */ }
    if (performance.now() - started > 15_000) throw await failed("did not start in 15 s");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const startMs = performance.now() - started;
  if (readProc(`/proc/${child.pid}/comm`).trim() === "sh") {
    throw await failed("the shell did not exec: its pid would not measure Deno");
  }
  return {
    label,
    url,
    pid: child.pid,
    startMs,
    stdoutPath,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await status;
    },
  };
}

// --- what the servers are asked -------------------------------------------

const upstream = startFakeOpenWeather();
const serviceEnv = {
  OPENWEATHER_API_KEY: TEST_API_KEY,
  OPENWEATHER_BASE_URL: upstream.url.href,
  LOG_LEVEL: "warn",
};

// An identity provider for the JWT scenarios: a key set served from this process.
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
const london = JSON.stringify({ city_name: "London" });
const basicRequest: LoadRequest = {
  authorization: `Basic ${btoa("genesys:bench-password")}`,
  body: london,
};
const cities = Array.from({ length: 8 }, (_, i) => JSON.stringify({ city_name: `City ${i}` }));

/** A fetch Request for one load request, for readiness probes and single calls. */
function toRequest(url: string, { authorization, body }: LoadRequest): Request {
  return new Request(url + WEATHER_PATH, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [CORRELATION_HEADER]: crypto.randomUUID(),
      ...(authorization === undefined ? {} : { authorization }),
    },
    body,
  });
}

const serviceReady = (url: string) => new Request(`${url}/readyz`);

async function callOnce(server: Server, request: LoadRequest): Promise<void> {
  const response = await fetch(toRequest(server.url, request));
  await response.body?.cancel();
  if (response.status !== 200) {
    throw new Error(`${server.label}: a single call answered ${response.status}`);
  }
}

// --- measuring --------------------------------------------------------------

let generator!: LoadGenerator;

interface Measured {
  result: LoadResult;
  /** CPU ticks the server used during the run. */
  serverTicks: number;
  /** CPU ticks the load generator used (wrk: a reaped child; autocannon: this process). */
  generatorTicks: number;
}

/** One run against `server`; a run with a single failed request stops the benchmark. */
async function loadRun(
  server: Server,
  requests: readonly LoadRequest[],
  durationS: number,
): Promise<Measured> {
  const serverBefore = cpuTicks(server.pid);
  const generatorBefore = cpuTicks(Deno.pid, true);
  const result = await generator.run({
    url: server.url + WEATHER_PATH,
    requests,
    connections: CONNECTIONS,
    durationS,
  });
  const measured = {
    result,
    serverTicks: cpuTicks(server.pid) - serverBefore,
    generatorTicks: cpuTicks(Deno.pid, true) - generatorBefore,
  };
  // A run whose requests fail measures the failure, not the service.
  if (result.errorStatuses + result.socketErrors > 0) {
    throw new Error(
      `${server.label}: ${result.errorStatuses} error answers, ${result.socketErrors} socket errors or timeouts`,
    );
  }
  return measured;
}

const usPerRequest = (ticks: number, requests: number) => (ticks / TICKS_PER_S) * 1e6 / requests;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

type HotRole = "bare" | "fair" | "fairJwt" | "basicWarn" | "basicInfo" | "jwtWarn" | "revision";

interface HotPathServer {
  role: HotRole;
  server: Server;
  request: LoadRequest;
  runs: Measured[];
  /** Requests answered, warm-up and the single call included: the access-log check counts them. */
  answered: number;
  /** wrk runs made against it, each of which may leave CONNECTIONS requests in flight. */
  loadRuns: number;
  idleRssMiB: number;
  peakRssMiB: number;
}

interface HotPathSummary {
  role: HotRole;
  label: string;
  requestsPerS: number;
  rangePerS: [number, number];
  p50Ms: number;
  p99Ms: number;
  serverUsPerRequest: number;
  generatorUsPerRequest: number;
  idleRssMiB: number;
  peakRssMiB: number;
  startMs: number;
}

interface AccessLogCheck {
  lines: number;
  answered: number;
  inFlightAtMost: number;
}

interface RevisionCheckout {
  label: string;
  /** The commit the revision named, abbreviated. */
  commit: string;
  root: URL;
}

function git(args: string[]): string {
  const output = new Deno.Command("git", { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!output.success) {
    throw new Error(`git ${args.join(" ")}: ${decoder.decode(output.stderr).trim()}`);
  }
  return decoder.decode(output.stdout).trim();
}

/** A detached worktree of each BENCH_REVISIONS entry, under the work directory. */
function checkOutRevisions(): RevisionCheckout[] {
  return REVISIONS.map(({ label, revision }, index) => {
    const commit = git(["rev-parse", "--short", `${revision}^{commit}`]);
    const path = `${workDir}/revision-${index}`;
    git(["worktree", "add", "--detach", "--quiet", path, commit]);
    return { label, commit, root: new URL(`file://${path}/`) };
  });
}

function removeRevisions(checkouts: readonly RevisionCheckout[]): void {
  for (const { root } of checkouts) git(["worktree", "remove", "--force", root.pathname]);
}

/** The interleaved rounds: every server up at once, each measured in turn, the order alternating. */
async function measureHotPath(token: string, revisions: readonly RevisionCheckout[]): Promise<{
  summaries: HotPathSummary[];
  accessLog: AccessLogCheck;
}> {
  const here = (file: string) => new URL(file, import.meta.url).pathname;
  const floorArgs = (file: string) => ["run", "--allow-net", "--allow-env=PORT", here(file)];
  const floorReady = (url: string) => toRequest(url, basicRequest);
  const tokenRequest: LoadRequest = { authorization: `Bearer ${token}`, body: london };
  const definitions: [HotRole, () => Promise<Server>, LoadRequest][] = [
    [
      "bare",
      () => spawn("bare floor: Deno.serve, same JSON", floorArgs("bare_server.ts"), {}, floorReady),
      basicRequest,
    ],
    [
      "fair",
      () =>
        spawn(
          "fair floor: the endpoint's unavoidable work",
          floorArgs("fair_floor_server.ts"),
          {},
          floorReady,
        ),
      basicRequest,
    ],
    [
      // The JWT request is 1 KB larger than the Basic one: Deno's HTTP stack parses it
      // and the handler reads it, so the JWT service is compared with a floor fed the same.
      "fairJwt",
      () =>
        spawn(
          "fair floor, fed the JWT request",
          floorArgs("fair_floor_server.ts"),
          {},
          floorReady,
        ),
      tokenRequest,
    ],
    [
      "basicWarn",
      () =>
        spawn("(a) service, Basic, LOG_LEVEL=warn", taskArguments("start"), basicEnv, serviceReady),
      basicRequest,
    ],
    [
      "basicInfo",
      () =>
        spawn(
          "(a) service, Basic, LOG_LEVEL=info, access log to a file",
          taskArguments("start"),
          { ...basicEnv, LOG_LEVEL: "info" },
          serviceReady,
        ),
      basicRequest,
    ],
    [
      "jwtWarn",
      () =>
        spawn("(a) service, one JWT, LOG_LEVEL=warn", taskArguments("start"), jwtEnv, serviceReady),
      tokenRequest,
    ],
    ...revisions.map(({ label, commit, root }): [HotRole, () => Promise<Server>, LoadRequest] => [
      "revision",
      () =>
        spawn(
          `revision ${label} (${commit}), Basic, LOG_LEVEL=info`,
          taskArguments("start", [], root),
          { ...basicEnv, LOG_LEVEL: "info" },
          serviceReady,
        ),
      basicRequest,
    ]),
  ];
  const servers: HotPathServer[] = [];
  try {
    for (const [role, start, request] of definitions) {
      const server = await start();
      servers.push({
        role,
        server,
        request,
        runs: [],
        answered: 0,
        loadRuns: 0,
        idleRssMiB: NaN,
        peakRssMiB: NaN,
      });
    }
    // Idle: started, one request answered (the JWT server has fetched its keys).
    for (const entry of servers) {
      await callOnce(entry.server, entry.request);
      entry.answered += 1;
      entry.idleRssMiB = memoryMiB(entry.server.pid, "VmRSS");
    }
    for (const entry of servers) {
      const warmUp = await loadRun(entry.server, [entry.request], WARMUP_S);
      entry.answered += warmUp.result.requests;
      entry.loadRuns += 1;
      note(`warm-up: ${entry.server.label}`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const entry of order) {
        const run = await loadRun(entry.server, [entry.request], DURATION_S);
        entry.runs.push(run);
        entry.answered += run.result.requests;
        entry.loadRuns += 1;
        note(
          `round ${round + 1}/${ROUNDS}: ${entry.server.label}: ${
            Math.round(run.result.requestsPerS)
          } req/s, p99 ${run.result.p99Ms.toFixed(2)} ms`,
        );
      }
    }
    for (const entry of servers) entry.peakRssMiB = memoryMiB(entry.server.pid, "VmHWM");
  } finally {
    // SIGTERM: the service flushes what it has buffered before it exits.
    await Promise.all(servers.map((entry) => entry.server.stop()));
  }
  const info = servers.find((entry) => entry.role === "basicInfo")!;
  const accessLog = {
    lines: await countAccessLogLines(info.server.stdoutPath),
    answered: info.answered,
    inFlightAtMost: info.loadRuns * CONNECTIONS,
  };
  const summaries = servers.map((entry): HotPathSummary => {
    const perS = entry.runs.map((run) => run.result.requestsPerS);
    const requests = entry.runs.reduce((sum, run) => sum + run.result.requests, 0);
    const ticks = (pick: (run: Measured) => number) =>
      entry.runs.reduce((sum, run) => sum + pick(run), 0);
    return {
      role: entry.role,
      label: entry.server.label,
      requestsPerS: median(perS),
      rangePerS: [Math.min(...perS), Math.max(...perS)],
      p50Ms: median(entry.runs.map((run) => run.result.p50Ms)),
      p99Ms: median(entry.runs.map((run) => run.result.p99Ms)),
      serverUsPerRequest: usPerRequest(ticks((run) => run.serverTicks), requests),
      generatorUsPerRequest: usPerRequest(ticks((run) => run.generatorTicks), requests),
      idleRssMiB: entry.idleRssMiB,
      peakRssMiB: entry.peakRssMiB,
      startMs: entry.server.startMs,
    };
  });
  return { summaries, accessLog };
}

/** Access-log lines for POST /data-action/weather in a service's stdout file. */
async function countAccessLogLines(path: string): Promise<number> {
  const { stdout } = await new Deno.Command("sh", {
    args: [
      "-c",
      `grep -F '"msg":"request"' "$1" | grep -c -F '"path":"${WEATHER_PATH}"'`,
      "sh",
      path,
    ],
    stdout: "piped",
  }).output();
  return Number(decoder.decode(stdout).trim());
}

interface ScenarioRow {
  scenario: string;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  serverUsPerRequest: number;
  peakRssMiB: number;
  upstreamCalls: number | string;
}

/**
 * One scenario, once: a warm-up (with `warmUp`, or the scenario's own
 * requests), `beforeRun`, then one measured run. Returns the requests
 * answered in both.
 */
async function measureScenario(
  rows: ScenarioRow[],
  scenario: string,
  server: Server,
  requests: readonly LoadRequest[],
  options: {
    countUpstream: boolean;
    warmUp?: readonly LoadRequest[];
    beforeRun?: () => Promise<void>;
  },
): Promise<number> {
  const callsBefore = upstream.requests.length;
  const warmUp = await loadRun(server, options.warmUp ?? requests, WARMUP_S);
  await options.beforeRun?.();
  const run = await loadRun(server, requests, DURATION_S);
  rows.push({
    scenario,
    requestsPerS: run.result.requestsPerS,
    p50Ms: run.result.p50Ms,
    p99Ms: run.result.p99Ms,
    serverUsPerRequest: usPerRequest(run.serverTicks, run.result.requests),
    peakRssMiB: memoryMiB(server.pid, "VmHWM"),
    upstreamCalls: options.countUpstream ? upstream.requests.length - callsBefore : "-",
  });
  note(`done: ${scenario}`);
  return warmUp.result.requests + run.result.requests;
}

/** Bearer token checks so far, from the service's own `auth_token_verifications_total`. */
async function verifications(server: Server): Promise<{ hit: number; miss: number }> {
  const response = await fetch(`${server.url}/metrics`);
  const text = await response.text();
  const count = (result: string) => {
    const line = `auth_token_verifications_total{result="${result}"} `;
    const value = text.split("\n").find((candidate) => candidate.startsWith(line));
    if (value === undefined) throw new Error(`/metrics has no ${line.trim()}`);
    return Number(value.slice(line.length));
  };
  return { hit: count("hit"), miss: count("miss") };
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

interface OtherScenarios {
  rows: ScenarioRow[];
  freshTokens: { verified: number; cacheHits: number };
  storeUse: { requests: number; commands: number; misses: number };
}

/** (b), (c), (e), (f): once each, every one in a fresh process, at LOG_LEVEL=warn. */
async function measureOtherScenarios(token: string): Promise<OtherScenarios> {
  const rows: ScenarioRow[] = [];
  const tokenRequest: LoadRequest = { authorization: `Bearer ${token}`, body: london };

  // (b): the tokens are used in turn, and the verification cache holds half of them, so
  // each comes back after it was evicted: every request is a full verification. The
  // service's own counter proves it.
  const fresh = await Promise.all(
    Array.from({ length: FRESH_TOKENS }, (_, i) => mint(`fresh-${i}`)),
  );
  const freshServer = await spawn(
    "(b) service, a fresh token per request",
    taskArguments("start"),
    { ...jwtEnv, AUTH_VERIFICATION_CACHE_MAX_ENTRIES: String(Math.floor(FRESH_TOKENS / 2)) },
    serviceReady,
  );
  let freshTokens: OtherScenarios["freshTokens"];
  try {
    let before = { hit: 0, miss: 0 };
    await measureScenario(
      rows,
      "(b) a fresh token per request",
      freshServer,
      fresh.map((jwt) => ({ authorization: `Bearer ${jwt}`, body: london })),
      {
        countUpstream: true,
        // The one-token hot path, so that no fresh token is in the cache when the run starts.
        warmUp: [tokenRequest],
        beforeRun: async () => {
          before = await verifications(freshServer);
        },
      },
    );
    const after = await verifications(freshServer);
    freshTokens = { verified: after.miss - before.miss, cacheHits: after.hit - before.hit };
  } finally {
    await freshServer.stop();
  }
  if (freshTokens.verified === 0) throw new Error("(b): no token was verified");

  // (c): OpenWeatherMap slow; many callers over few cities, against a cold cache.
  upstream.respondWith(async (_request, url) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return Response.json({
      weather: [{ id: 500, description: "light rain" }],
      main: { temp: 11 },
      name: url.searchParams.get("q") ?? "",
      cod: 200,
    });
  });
  const slowUpstream = await spawn(
    "(c) service, upstream 100 ms",
    taskArguments("start"),
    jwtEnv,
    serviceReady,
  );
  try {
    await measureScenario(
      rows,
      "(c) 64 callers, 8 cities, upstream 100 ms",
      slowUpstream,
      cities.map((body) => ({ authorization: `Bearer ${token}`, body })),
      { countUpstream: true },
    );
  } finally {
    await slowUpstream.stop();
    upstream.respondWith(undefined);
  }

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
  const started: Server[] = [];
  try {
    const storeEnv = { ...jwtEnv, SHARED_STORE_URL: redis.url };
    const first = await spawn(
      "(e) service, shared store",
      taskArguments("start"),
      storeEnv,
      serviceReady,
    );
    started.push(first);
    await measureScenario(rows, "(e) hot path, shared store configured", first, [tokenRequest], {
      countUpstream: true,
    });
    // The first instance fetches 8 cities; the second remembers one entry at a time, so
    // every ask of it is a miss in memory that the store answers.
    for (const body of cities) await callOnce(first, { authorization: `Bearer ${token}`, body });
    const second = await spawn(
      "(f) service, one entry in memory",
      taskArguments("start"),
      { ...storeEnv, WEATHER_CACHE_MAX_ENTRIES: "1" },
      serviceReady,
    );
    started.push(second);
    const commandsBefore = await redisCommands(redis);
    const requests = await measureScenario(
      rows,
      "(f) miss in memory, answered by the shared store",
      second,
      cities.map((body) => ({ authorization: `Bearer ${token}`, body })),
      { countUpstream: true },
    );
    const commandsAfter = await redisCommands(redis);
    // Each miss in memory is one refresh, which reads the store with one MGET.
    return {
      rows,
      freshTokens,
      storeUse: {
        requests,
        commands: commandsAfter.all - commandsBefore.all,
        misses: commandsAfter.mget - commandsBefore.mget,
      },
    };
  } finally {
    await Promise.all(started.map((server) => server.stop()));
    upstream.respondWith(undefined);
    await redis.stop();
  }
}

// --- cold start -------------------------------------------------------------

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
        (port) => toRequest(`http://127.0.0.1:${port}`, basicRequest),
      ),
    );
  }
  return result;
}

// --- the run ----------------------------------------------------------------

const cpu = readProc("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown CPU";
const machine = `${navigator.hardwareConcurrency} cores (${cpu}), ${
  (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(0)
} GiB, Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}`;

workDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "genesys-bench-" });
let hotPath: Awaited<ReturnType<typeof measureHotPath>> | undefined;
let others: OtherScenarios | undefined;
let coldStart: ColdStart | undefined;
let contactCentreDay: string | undefined;
try {
  if (ONLY === undefined) {
    generator = await chooseLoadGenerator(workDir);
    note(`load generator: ${generator.name}`);
    const token = await mint("hot");
    const revisions = checkOutRevisions();
    try {
      hotPath = await measureHotPath(token, revisions);
    } finally {
      removeRevisions(revisions);
    }
    others = await measureOtherScenarios(token);
  }
  if (ONLY === undefined || ONLY === "cold-start") coldStart = await measureColdStart();
  if (ONLY === undefined || ONLY === "contact-centre-day") {
    contactCentreDay = await runContactCentreDay({ spawn, machine, note });
  }
} finally {
  await keyHost.shutdown();
  await upstream.close();
  await Deno.remove(workDir, { recursive: true });
}

// --- the report -------------------------------------------------------------

const now = new Date().toISOString();
const percent = (ratio: number) => `${Math.round(ratio * 100)} %`;
const ms = (value: number) => value.toFixed(2);
const mib = (value: number) => value.toFixed(1);

// NaN when the cold start did not run (BENCH_ONLY=contact-centre-day); every
// run that measures the hot path (and so its targets) measures it.
const helloMedian = coldStart === undefined ? NaN : median(coldStart.helloMs);
const serviceMedian = coldStart === undefined ? NaN : median(coldStart.serviceMs);
const coldStartRatio = serviceMedian / helloMedian;

/** Each block of BENCHMARKS.md between its two markers, replaced by this run's. */
const blocks: Record<string, string> = {};

if (hotPath !== undefined && others !== undefined) {
  const { summaries, accessLog } = hotPath;
  const byRole = (role: HotRole) => summaries.find((summary) => summary.role === role)!;
  const bare = byRole("bare");
  const fair = byRole("fair");
  const fairJwt = byRole("fairJwt");
  /** The fair floor that received the same request as `role`. */
  const floorOf = (role: HotRole) => role === "jwtWarn" || role === "fairJwt" ? fairJwt : fair;
  const services = (["basicWarn", "basicInfo", "jwtWarn"] as const).map(byRole);
  const fallback = generator.fallbackReason === undefined ? "" : [
    "",
    `**Load generator: autocannon, not wrk** (${generator.fallbackReason}). autocannon runs on`,
    "Node's layer in this same process and saturates before a fast server does, so the ratios to",
    "the floors are typically higher than wrk would measure: these results do not show whether the goals hold.",
  ].join(" ");
  const generatorCommand = generator.fallbackReason === undefined
    ? `\`wrk -t1 -c${CONNECTIONS} -d${DURATION_S}s --latency\` with [scripts/bench_wrk.lua](scripts/bench_wrk.lua)`
    : `${CONNECTIONS} connections`;

  blocks["bench:hot-path"] = [
    "| server | req/s (median) | req/s range | vs bare | vs fair floor | p50 ms | p99 ms | server CPU µs/req | generator CPU µs/req | idle RSS MiB | peak RSS MiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...summaries.map((row) =>
      `| ${row.label} | ${Math.round(row.requestsPerS)} | ${Math.round(row.rangePerS[0])}–${
        Math.round(row.rangePerS[1])
      } | ${percent(row.requestsPerS / bare.requestsPerS)} | ${
        percent(row.requestsPerS / floorOf(row.role).requestsPerS)
      } | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${row.serverUsPerRequest.toFixed(1)} | ${
        row.generatorUsPerRequest.toFixed(1)
      } | ${mib(row.idleRssMiB)} | ${mib(row.peakRssMiB)} |`
    ),
    "",
    `Run ${now} on ${machine}. Load generator: ${generator.name}, ${generatorCommand}, on loopback, sharing the cores with the servers.${fallback}`,
    `All ${summaries.length} servers ran at once. "vs fair floor" compares each with the fair floor that received the same request (the Basic one, or the JWT one). After a ${WARMUP_S} s warm-up of each, ${ROUNDS} round${
      ROUNDS === 1 ? "" : "s"
    } measured each for ${DURATION_S} s in turn, the order reversed every other round. req/s, p50 and p99 are medians over the rounds; ratios are of the medians. Every request answered 2xx (the run fails otherwise).`,
    `CPU µs/req: the process's user + system time from /proc/<pid>/stat over its measured runs, divided by the requests answered; the generator's likewise (wrk's as a reaped child of the benchmark; autocannon's is the benchmark's own process). Idle RSS: VmRSS after start and one request; peak: VmHWM after all rounds.`,
    `Access log at LOG_LEVEL=info: ${accessLog.lines} lines for POST ${WEATHER_PATH} in the file for ${accessLog.answered} answered requests (each of its runs may leave up to ${CONNECTIONS} more in flight when the generator stops).`,
    `Start to first answer: service ${
      Math.round(byRole("basicWarn").startMs)
    } ms (process spawn to a 200 from /readyz), bare floor ${Math.round(bare.startMs)} ms.`,
  ].join("\n");

  const { rows, freshTokens, storeUse } = others;
  blocks["bench:scenarios"] = [
    "| scenario | req/s | vs fair floor | p50 ms | p99 ms | server CPU µs/req | peak RSS MiB | upstream calls |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| ${row.scenario} | ${Math.round(row.requestsPerS)} | ${
        percent(row.requestsPerS / fairJwt.requestsPerS)
      } | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${row.serverUsPerRequest.toFixed(1)} | ${
        mib(row.peakRssMiB)
      } | ${row.upstreamCalls} |`
    ),
    "",
    `Same run. Each scenario once, after the hot-path rounds, in a fresh process at LOG_LEVEL=warn: a ${WARMUP_S} s warm-up, then ${DURATION_S} s measured; upstream calls count both. vs fair floor: against the median above of the fair floor fed the JWT request, as these scenarios send tokens.`,
    `(b): ${freshTokens.verified} tokens verified, ${freshTokens.cacheHits} answered from the verification cache (the service's own \`auth_token_verifications_total\`): ${FRESH_TOKENS} tokens used in turn, with a cache of half as many, so each one is evicted before it comes back.`,
    `Shared store (Redis on loopback): (e) is the JWT hot path with SHARED_STORE_URL set. In (f), ${storeUse.requests} requests made ${storeUse.misses} misses in memory (concurrent ones for a city share one), which cost ${storeUse.commands} Redis commands: ${
      (storeUse.commands / storeUse.misses).toFixed(2)
    } per miss, i.e. one store round trip.`,
  ].join("\n");

  const fairShare = (summary: HotPathSummary) =>
    summary.requestsPerS / floorOf(summary.role).requestsPerS;
  const shortName: Record<string, string> = {
    basicWarn: "Basic, warn",
    basicInfo: "Basic, info",
    jwtWarn: "JWT, warn",
  };
  const list = (value: (summary: HotPathSummary) => string) =>
    services.map((summary) => `${shortName[summary.role]} ${value(summary)}`).join("; ");
  const p99Measured = CONNECTIONS === GOAL.p99Connections;
  const accessLogComplete = accessLog.lines >= accessLog.answered &&
    accessLog.lines <= accessLog.answered + accessLog.inFlightAtMost;
  const targets: [string, string, boolean | string][] = [
    ...services.map((summary): [string, string, boolean] => [
      `hot path, ${shortName[summary.role]}: at least ${
        percent(GOAL.fairFloorShare)
      } of the fair floor`,
      `${percent(fairShare(summary))} (${Math.round(summary.requestsPerS)} vs ${
        Math.round(floorOf(summary.role).requestsPerS)
      } req/s; ${percent(summary.requestsPerS / bare.requestsPerS)} of bare)`,
      fairShare(summary) >= GOAL.fairFloorShare,
    ]),
    [
      `hot path p99 under ${GOAL.p99Ms} ms at ${GOAL.p99Connections} connections`,
      list((summary) => `${ms(summary.p99Ms)} ms`),
      p99Measured
        ? services.every((summary) => summary.p99Ms < GOAL.p99Ms)
        : `not measured (BENCH_CONNECTIONS=${CONNECTIONS})`,
    ],
    [
      `peak RSS after the load under ${GOAL.peakRssMiB} MB (MiB)`,
      `${list((summary) => mib(summary.peakRssMiB))}; idle ${
        list((summary) => mib(summary.idleRssMiB))
      }`,
      services.every((summary) => summary.peakRssMiB < GOAL.peakRssMiB),
    ],
    [
      "one access-log line per request at info",
      `${accessLog.lines} lines, ${accessLog.answered} answered (+ at most ${accessLog.inFlightAtMost} in flight)`,
      accessLogComplete,
    ],
    [
      `cold start at most ${GOAL.coldStartRatio}× a hello-world \`deno serve\``,
      `${coldStartRatio.toFixed(1)}× (${Math.round(serviceMedian)} vs ${
        Math.round(helloMedian)
      } ms, medians of ${COLD_RUNS})`,
      coldStartRatio <= GOAL.coldStartRatio,
    ],
  ];
  blocks["bench:targets"] = [
    "| target | result (run above) | |",
    "| --- | --- | --- |",
    ...targets.map(([goal, result, met]) =>
      `| ${goal} | ${result} | ${met === true ? "met" : met === false ? "missed" : met} |`
    ),
    ...(generator.fallbackReason === undefined
      ? []
      : ["", "autocannon ran, not wrk: see the note above before reading these."]),
  ].join("\n");
}

if (hotPath !== undefined && hotPath.summaries.some((row) => row.role === "revision")) {
  const fair = hotPath.summaries.find((row) => row.role === "fair")!;
  const rows = hotPath.summaries.filter((row) =>
    row.role === "revision" || row.role === "basicInfo"
  );
  blocks["bench:revisions"] = [
    "| service | req/s (median) | vs fair floor | p50 ms | p99 ms | server CPU µs/req | peak RSS MiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| ${row.label} | ${Math.round(row.requestsPerS)} | ${
        percent(row.requestsPerS / fair.requestsPerS)
      } | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${row.serverUsPerRequest.toFixed(1)} | ${
        mib(row.peakRssMiB)
      } |`
    ),
    "",
    `Same run as the hot path above (${now}, BENCH_REVISIONS=${
      REVISIONS.map(({ label, revision }) => `${label}=${revision}`).join(",")
    }): each revision's service started from its own worktree with its own deno.json and lock, Basic auth, LOG_LEVEL=info with its access log to a file, measured in the same interleaved rounds against the same fair floor.`,
  ].join("\n");
}

if (coldStart !== undefined) {
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
      coldStartRatio.toFixed(1)
    }× (goal: at most ${GOAL.coldStartRatio}×). ${COLD_RUNS} runs of each, taken by turns, on ${machine}, ${now}. Process spawn to the first 200, polling every millisecond, warm module cache.`,
  ].join("\n");
}

if (contactCentreDay !== undefined) blocks["bench:contact-centre-day"] = contactCentreDay;

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
    ? document.replace(new RegExp(`${marker}[\\s\\S]*${marker}`), () => block)
    : `${document.trimEnd()}\n\n${block}\n`;
}
Deno.writeTextFileSync(path, document);
// Keep the file as `deno fmt --check` (and so CI) expects it.
await new Deno.Command(Deno.execPath(), { args: ["fmt", path.pathname], stderr: "null" }).output();
