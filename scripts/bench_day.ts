/**
 * The contact-centre day of `deno task bench` (`BENCH_ONLY=contact-centre-day`
 * runs it alone): a large organisation's hour of weather questions, 10× faster,
 * against four variants side by side, to show what callers wait for and what
 * OpenWeatherMap is asked.
 *
 *   refresh-ahead   the service, WEATHER_REFRESH_AHEAD_PERCENT=10
 *   without         the service, WEATHER_REFRESH_AHEAD_PERCENT=0
 *   baseline        the tutorial's app: OpenWeatherMap on every request
 *                   (scripts/day_baseline_server.ts)
 *   two instances   two services with refresh-ahead sharing one Redis, the
 *                   variant's arrivals alternating between them
 *
 * One process, this one, is the load generator: open-loop arrivals at a
 * steady rate over 500 places of Zipf popularity, each arrival sent to every
 * variant at the same moment, so the stand-in's outage (scripts/day_upstream.ts,
 * its own process) hits them all at once. The caches start cold: places are
 * first asked during the day, as they are in a real one.
 */

import { taskArguments } from "../tests/support/process.ts";
import { type RedisServer, startRedis } from "../tests/support/redis.ts";
import { CORRELATION_HEADER, WEATHER_PATH } from "../src/edge/handler.ts";
import {
  CURRENT_WEATHER_PATH,
  type DayUpstreamSettings,
  type DayUpstreamStats,
  seededRandom,
  START_PATH,
  STATS_PATH,
} from "./day_upstream.ts";

/**
 * Real seconds per bench second. 10× rather than 20×: at 20× (300 arrivals a
 * second to each of four variants, 1,200 in all from one generator) the
 * generator's own queue on two cores put cache hits at p99 19 ms where the
 * services' histograms had 99.9 % of them under 10 ms; at 10× the same hits
 * measured p99 10 ms. Running each variant's caller in its own worker did not
 * help: four runtimes cost more CPU than they saved in queueing.
 */
const COMPRESSION = 10;

/**
 * Every number of the day. Time runs {@link COMPRESSION}× faster than in a real
 * day: a duration here stands for that many times as long, a rate for that
 * fraction of it. Latencies and timeouts are not compressed: OpenWeatherMap
 * takes as long to answer as it really does.
 */
export const DAY = {
  compression: COMPRESSION,
  /** Bench seconds of load: an hour, six cache TTLs. No warm-up: the caches start cold. */
  lengthS: 3_600 / COMPRESSION,
  /** Arrivals per second, per variant: 15/s, Genesys's default 900 executions a minute. */
  arrivalsPerS: 15 * COMPRESSION,
  /**
   * Requests in flight per variant; an arrival beyond it is refused without calling the
   * variant, as Genesys fails it. Genesys's default of 15 concurrent executions: the
   * compressed rate at the same latency needs as many times the concurrency.
   */
  inFlightCap: 15 * COMPRESSION,
  /** Places asked: "Place 1" … "Place 500". */
  places: 500,
  /** Zipf exponent of the places' popularity: Place 1 is asked most. */
  zipfExponent: 1.1,
  /** Seeds the places' sequence (the same for every variant) and the stand-in's draws. */
  seed: 20_260_601,
  /** WEATHER_CACHE_TTL_S: the default 600 s (OpenWeatherMap updates every 10 min). */
  cacheTtlS: 600 / COMPRESSION,
  /** WEATHER_STALE_MAX_S: longer than the day, so any answer given can be served stale. */
  staleMaxS: 600,
  /** OPENWEATHER_MAX_CALLS_PER_MINUTE, counted per 60 bench seconds: 150 calls a minute. */
  maxCallsPerMinute: 150 * COMPRESSION,
  /** The budget's window, in bench seconds, as the service counts it. */
  budgetWindowS: 60,
  /** OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT (the default). */
  unknownSharePercent: 50,
  /** WEATHER_REFRESH_AHEAD_PERCENT of the refresh-ahead variants (the default). */
  refreshAheadPercent: 10,
  /** OPENWEATHER_REFRESH_SHARE_PERCENT (the default). */
  refreshSharePercent: 50,
  /** REQUEST_DEADLINE_MS (the Deno Deploy default), not compressed. */
  requestDeadlineMs: 3_500,
  /** OPENWEATHER_TIMEOUT_MS (the default), not compressed. */
  upstreamTimeoutMs: 3_000,
  /**
   * MAX_CONCURRENT_REQUESTS per service: the in-flight cap, so that the service's own
   * limit (default 256, far above Genesys's 15 in a real day) is never what refuses.
   */
  maxConcurrentRequests: 15 * COMPRESSION,
  /** The stand-in's latency: log-normal, median 150 ms and p99 about 600 ms, clamped. */
  upstreamLatency: { medianMs: 150, sigma: Math.log(4) / 2.326, minMs: 50, maxMs: 3_000 },
  /** The share of the stand-in's answers that are 502. */
  badGatewayShare: 0.01,
  /** The outage, in bench seconds after the start: every answer 503 for 30 s, from 0:25. */
  outage: { startS: 1_500 / COMPRESSION, lengthS: 30 },
  /** An answer this slow waited on the upstream (the stand-in never answers faster). */
  waitedMs: 50,
  /** How long the generator waits for an answer: the Genesys action's 8 s timeout. */
  answerTimeoutMs: 8_000,
  /** How long the stand-in counts calls by the millisecond: the day, the drain, and margin. */
  upstreamHorizonS: 3_600 / COMPRESSION + 60,
  /** The goals the report marks met or missed. */
  goal: {
    /** With refresh-ahead: places asked before answered without waiting, at least this share. */
    refreshAheadNoWaitShare: 0.99,
    /** With refresh-ahead: places asked before, p99 below this. */
    refreshAheadP99Ms: 20,
    /** Without refresh-ahead: places asked before, p99 at least this (the upstream's latency). */
    withoutP99AtLeastMs: 100,
    /** Two instances' upstream calls at most this multiple of one instance's. */
    twoInstancesCallRatio: 1.25,
    /**
     * Calls the stand-in may count above the budget in a window: it counts a call when it
     * arrives, a few ms (tens when the machine stalls) after the service's window admitted
     * it, so at the budget's pace (25 calls/s) a window's edges can gain a call or two.
     */
    budgetSlackCalls: 10,
  },
} as const;

// --- pure parts (tests/bench_day_test.ts) ----------------------------------

/** Ranks 1 … n drawn with Zipf probabilities (rank k ∝ 1/k^s) from `random`. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) cumulative[k - 1] = sum += 1 / k ** s;
  return () => {
    const target = random() * sum;
    // The first rank whose cumulative weight passes the target.
    let [low, high] = [0, n - 1];
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle]! > target) high = middle;
      else low = middle + 1;
    }
    return low + 1;
  };
}

/** The nearest-rank percentile (0 < p ≤ 100) of values sorted ascending; NaN for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * When a variant last answered each place well. An error answer counts against
 * the variant when, at the moment the request was sent, it had answered that
 * place well less than TTL + WEATHER_STALE_MAX_S before: it had a stale answer
 * to give. (Checked at the send, so an answer that arrives meanwhile does not count.)
 */
export class StaleWitness {
  readonly #lastGood = new Map<string, number>();
  readonly #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  answeredWell(place: string, atMs: number): void {
    this.#lastGood.set(place, Math.max(atMs, this.#lastGood.get(place) ?? -Infinity));
  }

  /** Whether a stale answer existed for `place` at `atMs`. */
  existed(place: string, atMs: number): boolean {
    const last = this.#lastGood.get(place);
    return last !== undefined && last <= atMs && atMs - last < this.#windowMs;
  }
}

/** One series of a Prometheus text exposition: its labels and value. */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** Every series of the metric `name` in Prometheus text; none when it is absent. */
export function metricSeries(text: string, name: string): Series[] {
  const series: Series[] = [];
  for (const line of text.split("\n")) {
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (match === null || match[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [
        key!,
        value!.replace(/\\(.)/g, (_, char: string) => char === "n" ? "\n" : char),
      ]),
    );
    series.push({ labels, value: Number(match[3]) });
  }
  return series;
}

/** The sum of the series of `name` whose labels include `wanted`: 0 when none does. */
export function metricSum(text: string, name: string, wanted: Record<string, string>): number {
  return metricSeries(text, name)
    .filter(({ labels }) => Object.entries(wanted).every(([key, value]) => labels[key] === value))
    .reduce((sum, { value }) => sum + value, 0);
}

/** What a variant answered one arrival. */
export interface Answer {
  /** The place had been asked earlier in the day (by the sequence, the same for all). */
  askedBefore: boolean;
  /** The first ask of the place in the day. */
  newName: boolean;
  ms: number;
  /** "ok", the body's error_code, "HTTP <status>", or why there was no answer. */
  outcome: string;
  /** The variant had a stale answer for the place when the request was sent. */
  staleExisted: boolean;
  /** Sent while the upstream was out. */
  inOutage: boolean;
}

/** What the generator counts of one variant. */
export class Tally {
  answers = 0;
  askedBefore = 0;
  waited = 0;
  waitedAskedBefore = 0;
  waitedAskedBeforeInOutage = 0;
  refused = 0;
  errorsWhereStale = 0;
  newNames = 0;
  newNamesRateLimited = 0;
  readonly errors = new Map<string, number>();
  readonly latencies: number[] = [];
  readonly latenciesAskedBefore: number[] = [];

  add(answer: Answer): void {
    const waited = answer.ms >= DAY.waitedMs;
    this.answers += 1;
    this.latencies.push(answer.ms);
    if (waited) this.waited += 1;
    if (answer.askedBefore) {
      this.askedBefore += 1;
      this.latenciesAskedBefore.push(answer.ms);
      if (waited) this.waitedAskedBefore += 1;
      if (waited && answer.inOutage) this.waitedAskedBeforeInOutage += 1;
    }
    if (answer.outcome !== "ok") {
      this.errors.set(answer.outcome, (this.errors.get(answer.outcome) ?? 0) + 1);
      if (answer.staleExisted) this.errorsWhereStale += 1;
    }
    if (answer.newName) {
      this.newNames += 1;
      if (answer.outcome === "UPSTREAM_RATE_LIMITED") this.newNamesRateLimited += 1;
    }
  }
}

// --- the run -----------------------------------------------------------------

/** A process bench.ts started: its URL, and how to stop it. */
export interface DayServer {
  readonly url: string;
  stop(): Promise<void>;
}

export interface DayOptions {
  /**
   * bench.ts's spawn(): `deno <args>` with `env`, stdout and stderr to files of
   * its work directory, resolved once `probe` answers 200.
   */
  spawn(
    label: string,
    args: string[],
    env: Record<string, string>,
    probe: (url: string) => Request,
  ): Promise<DayServer>;
  /** The machine, as the other blocks describe it. */
  machine: string;
  /** Progress, to stderr. */
  note(line: string): void;
}

type VariantKind = "refresh-ahead" | "without" | "baseline" | "two instances";

interface Variant {
  kind: VariantKind;
  /** Its OPENWEATHER_API_KEY: the stand-in counts its calls by it. */
  appid: string;
  /** One URL per process; arrivals go to them in turn. */
  urls: string[];
  service: boolean;
  inFlight: number;
  tally: Tally;
  witness: StaleWitness;
}

interface VariantResult {
  variant: Variant;
  upstreamCalls: number;
  upstreamPeak: number;
  /** From the services' /metrics; undefined for the baseline. */
  staleServed?: number;
  refreshes: Map<string, number>;
  budgetRefused: number;
}

const here = (file: string) => new URL(file, import.meta.url).pathname;
const timeout = () => AbortSignal.timeout(DAY.answerTimeoutMs);

/** The places of the day, one per arrival, the same sequence for every variant. */
function daySequence(): string[] {
  const rank = zipfSampler(DAY.places, DAY.zipfExponent, seededRandom(DAY.seed));
  return Array.from({ length: DAY.lengthS * DAY.arrivalsPerS }, () => `Place ${rank()}`);
}

/** Asks `url` for `body`'s place; never rejects. */
async function ask(url: string, body: string): Promise<{ ms: number; outcome: string }> {
  const started = performance.now();
  try {
    const response = await fetch(url + WEATHER_PATH, {
      method: "POST",
      headers: { "content-type": "application/json", [CORRELATION_HEADER]: crypto.randomUUID() },
      body,
      signal: timeout(),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    if (response.status !== 200) return { ms, outcome: `HTTP ${response.status}` };
    const code = (JSON.parse(text) as { error_code?: unknown }).error_code;
    return { ms, outcome: typeof code === "string" ? code : "ok" };
  } catch (error) {
    const ms = performance.now() - started;
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { ms, outcome: timedOut ? "no answer in 8 s" : "connection failed" };
  }
}

async function getText(url: string): Promise<string> {
  const response = await fetch(url, { signal: timeout() });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  return await response.text();
}

/**
 * Sends every arrival of the day to every variant at its moment, and waits
 * for the answers. Returns how late the arrivals left, in ms (p99, max).
 */
async function generateLoad(
  variants: readonly Variant[],
  note: (line: string) => void,
): Promise<{ lateP99Ms: number; lateMaxMs: number }> {
  const places = daySequence();
  const bodies = new Map<string, string>();
  const asked = new Set<string>();
  const intervalMs = 1_000 / DAY.arrivalsPerS;
  const late = new Float64Array(places.length);
  const start = performance.now();
  const at = () => performance.now() - start;

  const outageMs = [DAY.outage.startS * 1_000, (DAY.outage.startS + DAY.outage.lengthS) * 1_000];
  const send = (index: number) => {
    const place = places[index]!;
    const inOutage = index * intervalMs >= outageMs[0]! && index * intervalMs < outageMs[1]!;
    const newName = !asked.has(place);
    asked.add(place);
    let body = bodies.get(place);
    if (body === undefined) bodies.set(place, body = JSON.stringify({ city_name: place }));
    for (const variant of variants) {
      if (variant.inFlight >= DAY.inFlightCap) {
        variant.tally.refused += 1;
        continue;
      }
      const staleExisted = variant.witness.existed(place, at());
      variant.inFlight += 1;
      ask(variant.urls[index % variant.urls.length]!, body).then(({ ms, outcome }) => {
        variant.inFlight -= 1;
        if (outcome === "ok") variant.witness.answeredWell(place, at());
        variant.tally.add({ askedBefore: !newName, newName, ms, outcome, staleExisted, inOutage });
      });
    }
  };

  let next = 0;
  let noted = 0;
  while (next < places.length) {
    const now = at();
    for (; next < places.length && next * intervalMs <= now; next++) {
      late[next] = now - next * intervalMs;
      send(next);
    }
    if (now >= (noted + 30) * 1_000) {
      noted += 30;
      note(
        `contact-centre day: ${noted}/${DAY.lengthS} s; in flight ${
          variants.map((variant) => `${variant.kind} ${variant.inFlight}`).join(", ")
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // Every request ends within the answer timeout.
  const drainUntil = at() + DAY.answerTimeoutMs + 2_000;
  while (variants.some((variant) => variant.inFlight > 0) && at() < drainUntil) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  late.sort();
  return { lateP99Ms: percentile(late, 99), lateMaxMs: late[late.length - 1] ?? 0 };
}

/** Runs the day and returns its block for BENCHMARKS.md. */
export async function runContactCentreDay({ spawn, machine, note }: DayOptions): Promise<string> {
  const started: DayServer[] = [];
  let redis: RedisServer | undefined;
  try {
    const upstreamSettings: DayUpstreamSettings = {
      seed: DAY.seed,
      latency: DAY.upstreamLatency,
      badGatewayShare: DAY.badGatewayShare,
      outage: { startMs: DAY.outage.startS * 1_000, lengthMs: DAY.outage.lengthS * 1_000 },
      windowMs: DAY.budgetWindowS * 1_000,
      horizonMs: DAY.upstreamHorizonS * 1_000,
      maxVariants: 8,
    };
    const upstream = await spawn(
      "contact-centre day: OpenWeatherMap stand-in",
      ["run", "--allow-net=127.0.0.1", "--allow-env", here("day_upstream.ts")],
      { DAY_UPSTREAM: JSON.stringify(upstreamSettings) },
      (url) => new Request(url + STATS_PATH),
    );
    started.push(upstream);
    redis = await startRedis();

    const upstreamEnv = (appid: string) => ({
      OPENWEATHER_API_KEY: appid,
      OPENWEATHER_BASE_URL: upstream.url + CURRENT_WEATHER_PATH,
      OPENWEATHER_TIMEOUT_MS: String(DAY.upstreamTimeoutMs),
    });
    const serviceEnv = (appid: string, refreshAheadPercent: number) => ({
      ...upstreamEnv(appid),
      AUTH_MODE: "none",
      LOG_LEVEL: "warn",
      WEATHER_CACHE_TTL_S: String(DAY.cacheTtlS),
      WEATHER_STALE_MAX_S: String(DAY.staleMaxS),
      OPENWEATHER_MAX_CALLS_PER_MINUTE: String(DAY.maxCallsPerMinute),
      OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: String(DAY.unknownSharePercent),
      WEATHER_REFRESH_AHEAD_PERCENT: String(refreshAheadPercent),
      OPENWEATHER_REFRESH_SHARE_PERCENT: String(DAY.refreshSharePercent),
      REQUEST_DEADLINE_MS: String(DAY.requestDeadlineMs),
      MAX_CONCURRENT_REQUESTS: String(DAY.maxConcurrentRequests),
    });
    const serviceReady = (url: string) => new Request(`${url}/readyz`);
    const startService = async (label: string, env: Record<string, string>) => {
      const server = await spawn(
        `contact-centre day: ${label}`,
        taskArguments("start"),
        env,
        serviceReady,
      );
      started.push(server);
      return server.url;
    };
    const variant = (kind: VariantKind, appid: string, urls: string[], service = true) => ({
      kind,
      appid,
      urls,
      service,
      inFlight: 0,
      tally: new Tally(),
      witness: new StaleWitness((DAY.cacheTtlS + DAY.staleMaxS) * 1_000),
    });
    const shared = {
      SHARED_STORE_URL: redis.url,
      SHARED_STORE_INSTANCES: "2",
    };
    const variants: Variant[] = [
      variant("refresh-ahead", "day-refresh-ahead", [
        await startService(
          "refresh-ahead",
          serviceEnv("day-refresh-ahead", DAY.refreshAheadPercent),
        ),
      ]),
      variant("without", "day-without", [
        await startService("without", serviceEnv("day-without", 0)),
      ]),
      variant("baseline", "day-baseline", [
        await (async () => {
          const server = await spawn(
            "contact-centre day: baseline",
            ["run", "--allow-net=127.0.0.1", "--allow-env", here("day_baseline_server.ts")],
            upstreamEnv("day-baseline"),
            (url) => new Request(`${url}/healthz`),
          );
          started.push(server);
          return server.url;
        })(),
      ], false),
      variant("two instances", "day-two-instances", [
        await startService("two instances, 1", {
          ...serviceEnv("day-two-instances", DAY.refreshAheadPercent),
          ...shared,
        }),
        await startService("two instances, 2", {
          ...serviceEnv("day-two-instances", DAY.refreshAheadPercent),
          ...shared,
        }),
      ]),
    ];

    const startAnswer = await fetch(upstream.url + START_PATH, {
      method: "POST",
      signal: timeout(),
    });
    await startAnswer.body?.cancel();
    if (startAnswer.status !== 200) {
      throw new Error(`The stand-in's start answered ${startAnswer.status}`);
    }
    note(
      `contact-centre day: ${DAY.lengthS} s, ${DAY.arrivalsPerS} arrivals/s to each of ${variants.length} variants`,
    );
    const lateness = await generateLoad(variants, note);
    const stats = JSON.parse(await getText(upstream.url + STATS_PATH)) as DayUpstreamStats;

    const results: VariantResult[] = [];
    for (const variant of variants) {
      const texts = variant.service
        ? await Promise.all(variant.urls.map((url) => getText(`${url}/metrics`)))
        : [];
      const sum = (name: string, labels: Record<string, string>) =>
        texts.reduce((total, text) => total + metricSum(text, name, labels), 0);
      const refreshes = new Map<string, number>();
      for (const text of texts) {
        for (const { labels, value } of metricSeries(text, "weather_refreshes_total")) {
          if (labels.action !== "weather" || labels.outcome === undefined) continue;
          refreshes.set(labels.outcome, (refreshes.get(labels.outcome) ?? 0) + value);
        }
      }
      const calls = stats.variants[variant.appid];
      results.push({
        variant,
        upstreamCalls: calls?.calls ?? 0,
        upstreamPeak: calls?.peakInWindow ?? 0,
        ...(variant.service
          ? {
            staleServed: sum("weather_cache_lookups_total", { action: "weather", result: "stale" }),
          }
          : {}),
        refreshes,
        budgetRefused: sum("openweather_budget_refused_total", {}),
      });
    }
    return report(results, lateness, machine);
  } finally {
    await Promise.all(started.map((server) => server.stop()));
    await redis?.stop();
  }
}

// --- the report ---------------------------------------------------------------

function report(
  results: readonly VariantResult[],
  lateness: { lateP99Ms: number; lateMaxMs: number },
  machine: string,
): string {
  const byKind = (kind: VariantKind) => results.find((result) => result.variant.kind === kind)!;
  const services = results.filter((result) => result.variant.service);
  const share = (part: number, whole: number) =>
    whole === 0 ? "-" : `${((part / whole) * 100).toFixed(1)} %`;
  const ms = (value: number) => Number.isNaN(value) ? "-" : value.toFixed(1);
  const sorted = (values: readonly number[]) => Float64Array.from(values).sort();
  const askedBeforeP = (result: VariantResult, p: number) =>
    percentile(sorted(result.variant.tally.latenciesAskedBefore), p);
  const perMinute = (calls: number) => Math.round(calls / (DAY.lengthS / 60));

  const rows = results.map((result) => {
    const { tally } = result.variant;
    const before = sorted(tally.latenciesAskedBefore);
    return `| ${result.variant.kind} | ${tally.answers} | ${
      share(tally.waitedAskedBefore, tally.askedBefore)
    } | ${share(tally.waited, tally.answers)} | ${ms(percentile(before, 50))} / ${
      ms(percentile(before, 95))
    } / ${ms(percentile(before, 99))} | ${
      ms(percentile(sorted(tally.latencies), 99))
    } | ${result.upstreamPeak} / ${DAY.maxCallsPerMinute} | ${result.upstreamCalls} (${
      perMinute(result.upstreamCalls)
    }/min) | ${
      result.staleServed ?? "-"
    } | ${tally.errorsWhereStale} | ${tally.newNamesRateLimited} of ${tally.newNames} |`;
  });

  const list = (describe: (result: VariantResult) => string, some = results) =>
    some.map((result) => `${result.variant.kind} ${describe(result)}`).join("; ");
  const errors = list((result) => {
    const entries = [...result.variant.tally.errors].sort(([a], [b]) => a.localeCompare(b));
    return entries.length === 0
      ? "none"
      : entries.map(([code, count]) => `${code} ${count}`).join(", ");
  });
  const refreshes = services.some((result) => result.refreshes.size > 0)
    ? `\`weather_refreshes_total\`: ${
      services.map((result) =>
        `${result.variant.kind} ${
          [...result.refreshes].map(([outcome, count]) => `${outcome} ${count}`).join(", ") ||
          "none"
        }`
      ).join("; ")
    }.`
    : 'No service exported `weather_refreshes_total` (refresh-ahead not in this build: the refresh-ahead variants ran as "without").';

  const refreshAhead = byKind("refresh-ahead");
  const without = byKind("without");
  const two = byKind("two instances");
  const noWait = 1 -
    refreshAhead.variant.tally.waitedAskedBefore / refreshAhead.variant.tally.askedBefore;
  const goals: [string, string, boolean][] = [
    [
      `refresh-ahead: at least ${
        DAY.goal.refreshAheadNoWaitShare * 100
      } % of answers for places asked before without waiting, their p99 under ${DAY.goal.refreshAheadP99Ms} ms`,
      `${share(noWait, 1)} without waiting, p99 ${ms(askedBeforeP(refreshAhead, 99))} ms`,
      noWait >= DAY.goal.refreshAheadNoWaitShare &&
      askedBeforeP(refreshAhead, 99) < DAY.goal.refreshAheadP99Ms,
    ],
    [
      `without refresh-ahead: places asked before, p99 near the upstream's latency (at least ${DAY.goal.withoutP99AtLeastMs} ms)`,
      `p99 ${ms(askedBeforeP(without, 99))} ms`,
      askedBeforeP(without, 99) >= DAY.goal.withoutP99AtLeastMs,
    ],
    [
      `upstream calls never above the budget (${DAY.maxCallsPerMinute}) in any ${DAY.budgetWindowS} s, every service variant (the stand-in's count, ${DAY.goal.budgetSlackCalls} calls of slack: see bench_day.ts)`,
      list((result) => String(result.upstreamPeak), services),
      services.every((result) =>
        result.upstreamPeak <= DAY.maxCallsPerMinute + DAY.goal.budgetSlackCalls
      ),
    ],
    [
      "no error answer where a stale answer existed, every service variant",
      list((result) => String(result.variant.tally.errorsWhereStale), services),
      services.every((result) => result.variant.tally.errorsWhereStale === 0),
    ],
    [
      `two instances: upstream calls at most ${DAY.goal.twoInstancesCallRatio}× one instance's (refresh-ahead)`,
      `${
        (two.upstreamCalls / refreshAhead.upstreamCalls).toFixed(2)
      }× (${two.upstreamCalls} vs ${refreshAhead.upstreamCalls})`,
      two.upstreamCalls <= DAY.goal.twoInstancesCallRatio * refreshAhead.upstreamCalls,
    ],
  ];

  return [
    "| variant | answers | waited (asked before) | waited (all) | p50 / p95 / p99 ms (asked before) | p99 ms (all) | upstream calls: peak per 60 s / budget | upstream calls: total | stale served | errors where stale existed | new names rate-limited |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Run ${
      new Date().toISOString()
    } on ${machine}. ${DAY.lengthS} s of load (an hour at ${DAY.compression}× speed), ${DAY.arrivalsPerS} arrivals/s sent to every variant at once, over ${DAY.places} places (Zipf ${DAY.zipfExponent}), caches cold at the start; upstream outage (503) from ${DAY.outage.startS} s for ${DAY.outage.lengthS} s. Waited: the answer took ${DAY.waitedMs} ms or more. Arrivals left late by ${
      ms(lateness.lateP99Ms)
    } ms at p99 (at most ${
      ms(lateness.lateMaxMs)
    } ms). Refused by the in-flight cap of ${DAY.inFlightCap}: ${
      list((result) => String(result.variant.tally.refused))
    }.`,
    `Waits for places asked before that came during the outage: ${
      list((result) =>
        `${result.variant.tally.waitedAskedBeforeInOutage} of ${result.variant.tally.waitedAskedBefore}`
      )
    }. Error answers: ${errors}. Calls the budget held back (\`openweather_budget_refused_total\`): ${
      list((result) => String(result.budgetRefused), services)
    }. ${refreshes}`,
    "",
    "| goal | result (run above) | |",
    "| --- | --- | --- |",
    ...goals.map(([goal, result, met]) => `| ${goal} | ${result} | ${met ? "met" : "missed"} |`),
  ].join("\n");
}
