/**
 * A typed client for OpenWeatherMap's current-weather endpoint.
 *
 * Every call has a timeout that covers the body as well as the headers,
 * follows no redirects, reads a bounded body, and ends in either a validated
 * observation or an UpstreamError whose code is the Data Action's error_code.
 * Errors keep their cause for the log, which redacts the API key.
 *
 * Why undici and not fetch: OpenWeatherMap takes the key only as the `appid`
 * query parameter, and with OTEL_DENO=true Deno traces every fetch (and
 * node:http request) with its full URL in `url.full` and `url.query`, with no
 * way to turn that off per call. That would ship the key to the tracing
 * backend. undici speaks HTTP over node:net, which Deno does not trace, and
 * this module records its own span with only the safe attributes.
 */

import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { Agent, request } from "undici";
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
export const ObservationSchema = z.object({
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
}

export interface OpenWeatherClient {
  /** Resolves with an observation or rejects with an UpstreamError, never anything else. */
  currentWeather(query: CurrentWeatherQuery): Promise<Observation>;
  /** Closes pooled connections; for shutdown. */
  close(): Promise<void>;
}

const tracer = trace.getTracer("genesys-weather-action");

export function createOpenWeatherClient(options: OpenWeatherClientOptions): OpenWeatherClient {
  // One pool per client, so shutting the service down closes its sockets.
  const agent = new Agent({ connect: { timeout: options.timeoutMs } });
  const spanAttributes = {
    "http.request.method": "GET",
    "server.address": options.baseUrl.hostname,
    "server.port": Number(options.baseUrl.port) ||
      (options.baseUrl.protocol === "https:" ? 443 : 80),
    "url.path": options.baseUrl.pathname,
  };

  async function call(query: CurrentWeatherQuery): Promise<Observation> {
    const url = currentWeatherUrl(options.baseUrl, options.apiKey, query);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await request(url, {
        method: "GET",
        dispatcher: agent,
        signal: timeout,
        headers: { accept: "application/json" },
      });
      return await readObservation(response.statusCode, response.body);
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

  return {
    currentWeather(query) {
      return tracer.startActiveSpan(
        "OpenWeatherMap current weather",
        { kind: SpanKind.CLIENT, attributes: spanAttributes },
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
    },
    close: () => agent.close(),
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
  status: number,
  stream: AsyncIterable<Uint8Array> & { dump(): Promise<void> },
): Promise<Observation> {
  if (status !== 200) {
    // Redirects, errors: nothing in the body is needed, and the socket is reused.
    await stream.dump().catch(() => {});
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
