/**
 * The OpenWeatherMap stand-in of the contact-centre day (scripts/bench_day.ts),
 * run as its own process so that its timers and answers do not disturb the
 * load generator's timing.
 *
 * It answers any `q=` city as found, after a log-normal latency, with a 502
 * now and then and one outage of 503s, all drawn from a seeded generator.
 * Each variant of the day calls it with its own `appid`, and has its own
 * generator with the same seed: the n-th call of every variant waits as long
 * and fails alike, so the variants differ only in how often they call.
 *
 *   POST /control/start   the day begins now: the outage is timed from here
 *   GET  /control/stats   per appid: calls, and the most in any sliding window
 *
 * Settings come as JSON in DAY_UPSTREAM (DayUpstreamSettings), so that every
 * number of the day stays in bench_day.ts's one table.
 */

import { LONDON } from "../tests/support/fake_openweather.ts";

export interface DayUpstreamSettings {
  seed: number;
  /** Log-normal latency: its median and sigma, clamped to [minMs, maxMs]. */
  latency: { medianMs: number; sigma: number; minMs: number; maxMs: number };
  /** The share of calls answered 502, 0–1. */
  badGatewayShare: number;
  /** Calls arriving in [startMs, startMs + lengthMs) after /control/start are answered 503. */
  outage: { startMs: number; lengthMs: number };
  /** The sliding window /control/stats reports the peak of. */
  windowMs: number;
  /** How long a day it counts by the millisecond; later calls count in its last millisecond. */
  horizonMs: number;
  /** Appids it keeps counts for; calls with any other key are answered 401. */
  maxVariants: number;
}

export interface DayUpstreamStats {
  /** Milliseconds since /control/start (0 before it). */
  elapsedMs: number;
  /** Per appid. */
  variants: Record<string, { calls: number; peakInWindow: number }>;
}

export const CURRENT_WEATHER_PATH = "/data/2.5/weather";
export const START_PATH = "/control/start";
export const STATS_PATH = "/control/stats";

/** mulberry32: a small seeded generator of numbers in [0, 1), the same sequence for a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A log-normal draw (Box–Muller), clamped: median × e^(sigma·z). */
export function logNormalMs(
  random: () => number,
  { medianMs, sigma, minMs, maxMs }: DayUpstreamSettings["latency"],
): number {
  // 1 - random() is in (0, 1]: the logarithm stays finite.
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.min(maxMs, Math.max(minMs, medianMs * Math.exp(sigma * z)));
}

/**
 * Calls counted per millisecond over a fixed horizon: memory is bounded by the
 * horizon, not by the calls, and the peak over any window of whole
 * milliseconds is exact.
 */
export class CallCounter {
  readonly #perMs: Uint32Array;
  #total = 0;

  constructor(horizonMs: number) {
    this.#perMs = new Uint32Array(horizonMs);
  }

  /** One call, `atMs` after the start (clamped into the horizon). */
  record(atMs: number): void {
    const slot = Math.min(this.#perMs.length - 1, Math.max(0, Math.floor(atMs)));
    this.#perMs[slot]! += 1;
    this.#total += 1;
  }

  get total(): number {
    return this.#total;
  }

  /** The most calls in any `windowMs` consecutive milliseconds. */
  peakIn(windowMs: number): number {
    return peakInWindow(this.#perMs, windowMs);
  }
}

/** The largest sum of `window` consecutive counts (all of them, when there are fewer). */
export function peakInWindow(counts: ArrayLike<number>, window: number): number {
  let sum = 0;
  let peak = 0;
  for (let i = 0; i < counts.length; i++) {
    sum += counts[i]!;
    if (i >= window) sum -= counts[i - window]!;
    peak = Math.max(peak, sum);
  }
  return peak;
}

/** A current-weather body in OpenWeatherMap's shape (London's, from the tests) for `city`. */
function weatherBody(city: string): string {
  return JSON.stringify({ ...LONDON, name: city });
}

function startDayUpstream(settings: DayUpstreamSettings): Deno.HttpServer {
  interface Variant {
    random: () => number;
    calls: CallCounter;
  }
  const variants = new Map<string, Variant>();
  let startedAt: number | undefined;
  const elapsedMs = () => startedAt === undefined ? 0 : performance.now() - startedAt;
  const json = (body: unknown, status = 200) => Response.json(body, { status });

  const answerWeather = async (url: URL): Promise<Response> => {
    const appid = url.searchParams.get("appid") ?? "";
    let variant = variants.get(appid);
    if (variant === undefined && variants.size < settings.maxVariants && appid.length >= 8) {
      variant = { random: seededRandom(settings.seed), calls: new CallCounter(settings.horizonMs) };
      variants.set(appid, variant);
    }
    if (variant === undefined) return json({ cod: 401, message: "Invalid API key" }, 401);
    const at = elapsedMs();
    variant.calls.record(at);
    // Drawn in the same order for every call, so each variant's n-th call is alike.
    const latencyMs = logNormalMs(variant.random, settings.latency);
    const badGateway = variant.random() < settings.badGatewayShare;
    const { startMs, lengthMs } = settings.outage;
    const inOutage = startedAt !== undefined && at >= startMs && at < startMs + lengthMs;
    await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (inOutage) return json({ cod: 503, message: "Service Unavailable" }, 503);
    if (badGateway) return json({ cod: 502, message: "Bad Gateway" }, 502);
    const city = url.searchParams.get("q");
    if (city === null || city.trim() === "") {
      return json({ cod: "400", message: "Nothing to geocode" }, 400);
    }
    return new Response(weatherBody(city), {
      headers: { "content-type": "application/json; charset=utf-8" },
    });
  };

  return Deno.serve(
    {
      hostname: Deno.env.get("HOST") ?? "127.0.0.1",
      port: Number(Deno.env.get("PORT") ?? 0),
      onListen: () => {},
    },
    (request) => {
      const url = new URL(request.url);
      const route = `${request.method} ${url.pathname}`;
      if (route === `GET ${CURRENT_WEATHER_PATH}`) return answerWeather(url);
      if (route === `POST ${START_PATH}`) {
        if (startedAt !== undefined) return json({ error: "Already started" }, 409);
        startedAt = performance.now();
        return json({ started: true });
      }
      if (route === `GET ${STATS_PATH}`) {
        const stats: DayUpstreamStats = {
          elapsedMs: elapsedMs(),
          variants: Object.fromEntries(
            [...variants].map(([appid, { calls }]) => [
              appid,
              { calls: calls.total, peakInWindow: calls.peakIn(settings.windowMs) },
            ]),
          ),
        };
        return json(stats);
      }
      return json({ cod: "404", message: "Not found" }, 404);
    },
  );
}

if (import.meta.main) {
  const raw = Deno.env.get("DAY_UPSTREAM");
  if (raw === undefined) throw new Error("DAY_UPSTREAM must hold the settings as JSON");
  startDayUpstream(JSON.parse(raw) as DayUpstreamSettings);
}
