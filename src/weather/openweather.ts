/**
 * A typed client for OpenWeatherMap's current-weather endpoint.
 *
 * Every call has a timeout that covers the body as well as the headers,
 * follows no redirects, reads a bounded body, and ends in either a validated
 * observation or an UpstreamError whose code is the Data Action's error_code.
 * Errors keep their cause for the log, which redacts the API key.
 *
 * Two transports, chosen by whether Deno may trace outbound calls:
 *
 * - Traced (OTEL_DENO set, or on Deno Deploy, whose built-in tracing cannot be
 *   turned off): undici. OpenWeatherMap takes the key only as the `appid`
 *   query parameter, and Deno traces every fetch (and node:http request) with
 *   its full URL in `url.full` and `url.query`, with no way to turn that off
 *   per call: that would ship the key to the tracing backend. undici speaks
 *   HTTP over node:net, which Deno does not trace, and this module records its
 *   own span with only the safe attributes.
 * - Not traced: plain fetch. undici and @opentelemetry/api are then never
 *   loaded: together they took about 30 ms of every cold start.
 */

import { z } from "zod";
import { readBoundedBytes } from "../http/bounded_body.ts";
import type { Units, UpstreamErrorCode } from "./contract.ts";

/**
 * Environment variables undici itself reads (its HTTP/1 parser loader checks
 * these two). Under `--allow-env=<list>` an unlisted read throws, so the start
 * task grants these beside the service's own variables.
 */
export const UNDICI_ENV_READS = ["JEST_WORKER_ID", "UNDICI_NO_WASM_SIMD"] as const;

/** A current-weather answer is about 1 KiB; anything far larger is not one. */
const MAX_UPSTREAM_BODY_BYTES = 256 * 1024;

export interface CurrentWeatherQuery {
  city: string;
  countryCode?: string | undefined;
  units: Units;
  lang?: string | undefined;
}

/** The part of OpenWeatherMap's answer this service uses; everything but temperature and description may be absent. */
const ObservationSchema = z.object({
  weather: z.array(z.object({ id: z.number().optional(), description: z.string() })).min(1),
  main: z.object({
    temp: z.number(),
    feels_like: z.number().optional(),
    temp_min: z.number().optional(),
    temp_max: z.number().optional(),
    pressure: z.number().optional(),
    humidity: z.number().optional(),
  }),
  visibility: z.number().optional(),
  wind: z.object({ speed: z.number().optional(), deg: z.number().optional() }).optional(),
  clouds: z.object({ all: z.number().optional() }).optional(),
  dt: z.number().optional(),
  sys: z.object({ country: z.string().optional() }).optional(),
  name: z.string().optional(),
});

export type Observation = z.infer<typeof ObservationSchema>;

export class UpstreamError extends Error {
  override name = "UpstreamError";
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    readonly upstreamStatus?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface OpenWeatherClientOptions {
  baseUrl: URL;
  apiKey: string;
  timeoutMs: number;
  /** Deno may trace outbound calls (OTEL_DENO, Deno Deploy): never let it see the URL. */
  outboundTraced: boolean;
}

export interface OpenWeatherClient {
  /** Resolves with an observation or rejects with an UpstreamError, never anything else. */
  currentWeather(query: CurrentWeatherQuery): Promise<Observation>;
  /** Closes pooled connections; for shutdown. */
  close(): Promise<void>;
}

/** An answer's status and a body that can be read (bounded) or thrown away. */
interface UpstreamAnswer {
  status: number;
  body: AsyncIterable<Uint8Array>;
  discard(): Promise<void>;
}

interface Transport {
  get(url: URL, signal: AbortSignal): Promise<UpstreamAnswer>;
  close(): Promise<void>;
}

/** Deno's fetch: for when nothing traces it, so the key in the URL goes nowhere else. */
function fetchTransport(): Transport {
  return {
    async get(url, signal) {
      const response = await fetch(url, {
        signal,
        redirect: "manual",
        headers: { accept: "application/json" },
      });
      const body = response.body ?? ReadableStream.from<Uint8Array>([]);
      return { status: response.status, body, discard: () => body.cancel() };
    },
    close: () => Promise.resolve(),
  };
}

/** undici over node:net, which Deno does not trace; loaded only when tracing may be on. */
async function undiciTransport(timeoutMs: number): Promise<Transport> {
  const { Agent, request } = await import("undici");
  // One pool per client, so shutting the service down closes its sockets.
  const agent = new Agent({ connect: { timeout: timeoutMs } });
  return {
    async get(url, signal) {
      const response = await request(url, {
        method: "GET",
        dispatcher: agent,
        signal,
        headers: { accept: "application/json" },
      });
      return {
        status: response.statusCode,
        body: response.body,
        discard: () => response.body.dump(),
      };
    },
    close: () => agent.close(),
  };
}

type Call = (query: CurrentWeatherQuery) => Promise<Observation>;

/** Wraps each call in a client span with the safe attributes only: no URL, no query. */
async function traced(call: Call, baseUrl: URL): Promise<Call> {
  const { SpanKind, SpanStatusCode, trace } = await import("@opentelemetry/api");
  const tracer = trace.getTracer("genesys-weather-action");
  const attributes = {
    "http.request.method": "GET",
    "server.address": baseUrl.hostname,
    "server.port": Number(baseUrl.port) || (baseUrl.protocol === "https:" ? 443 : 80),
    "url.path": baseUrl.pathname,
  };
  return (query) =>
    tracer.startActiveSpan(
      "OpenWeatherMap current weather",
      { kind: SpanKind.CLIENT, attributes },
      async (span) => {
        try {
          const observation = await call(query);
          span.setAttribute("http.response.status_code", 200);
          return observation;
        } catch (error) {
          const upstream = error as UpstreamError;
          if (upstream.upstreamStatus !== undefined) {
            span.setAttribute("http.response.status_code", upstream.upstreamStatus);
          }
          span.setAttribute("error.type", upstream.code);
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

export function createOpenWeatherClient(options: OpenWeatherClientOptions): OpenWeatherClient {
  const transport = options.outboundTraced
    ? undiciTransport(options.timeoutMs)
    : Promise.resolve(fetchTransport());

  async function call(query: CurrentWeatherQuery): Promise<Observation> {
    const url = currentWeatherUrl(options.baseUrl, options.apiKey, query);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
      const answer = await (await transport).get(url, timeout);
      return await readObservation(answer);
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      if (timeout.aborted) {
        throw new UpstreamError(
          "UPSTREAM_TIMEOUT",
          `OpenWeatherMap did not answer within ${options.timeoutMs} ms`,
          undefined,
          { cause: error },
        );
      }
      throw new UpstreamError(
        "UPSTREAM_UNAVAILABLE",
        "OpenWeatherMap could not be reached",
        undefined,
        { cause: error },
      );
    }
  }

  const currentWeather = options.outboundTraced ? traced(call, options.baseUrl) : undefined;
  return {
    currentWeather: async (query) =>
      await (currentWeather ? (await currentWeather)(query) : call(query)),
    close: async () => await (await transport).close(),
  };
}

function currentWeatherUrl(baseUrl: URL, apiKey: string, query: CurrentWeatherQuery): URL {
  const url = new URL(baseUrl);
  const place = query.countryCode ? `${query.city},${query.countryCode}` : query.city;
  url.searchParams.set("q", place);
  url.searchParams.set("units", query.units);
  if (query.lang) url.searchParams.set("lang", query.lang);
  url.searchParams.set("appid", apiKey);
  return url;
}

async function readObservation(
  { status, body: stream, discard }: UpstreamAnswer,
): Promise<Observation> {
  if (status !== 200) {
    // Redirects, errors: nothing in the body is needed, and the socket is reused.
    await discard().catch(() => {});
    throw errorForStatus(status);
  }
  const bytes = await readBoundedBytes(stream, MAX_UPSTREAM_BODY_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new UpstreamError(
      "UPSTREAM_UNAVAILABLE",
      "OpenWeatherMap answered with a body that is not JSON",
      200,
      {
        cause: error,
      },
    );
  }
  // Some OpenWeatherMap errors arrive as HTTP 200 with the real status in `cod`
  // (a number on some answers, a string on others).
  const cod = typeof body === "object" && body !== null && "cod" in body ? Number(body.cod) : 200;
  if (cod !== 200) throw errorForStatus(cod);

  const parsed = ObservationSchema.safeParse(body);
  if (!parsed.success) {
    throw new UpstreamError(
      "UPSTREAM_UNAVAILABLE",
      "OpenWeatherMap answered with an unexpected body",
      200,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

function errorForStatus(status: number): UpstreamError {
  switch (status) {
    case 404:
      return new UpstreamError("CITY_NOT_FOUND", "OpenWeatherMap does not know the city", status);
    case 400:
      // "Nothing to geocode" and friends: the place name cannot be resolved.
      return new UpstreamError(
        "CITY_NOT_FOUND",
        "OpenWeatherMap could not geocode the city",
        status,
      );
    case 401:
    case 403:
      return new UpstreamError(
        "UPSTREAM_AUTH_FAILED",
        "OpenWeatherMap rejected the API key",
        status,
      );
    case 429:
      return new UpstreamError(
        "UPSTREAM_RATE_LIMITED",
        "OpenWeatherMap rate limit exceeded",
        status,
      );
    default:
      return new UpstreamError(
        "UPSTREAM_UNAVAILABLE",
        `OpenWeatherMap answered with status ${status}`,
        status,
      );
  }
}
