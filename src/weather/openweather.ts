/**
 * A typed client for OpenWeatherMap's current-weather and 5 day / 3 hour
 * forecast endpoints, which take the same place, `units` and `lang`.
 *
 * Every call has a timeout that covers the body as well as the headers,
 * follows no redirects, reads a bounded body, and ends in either a validated
 * observation or an UpstreamError whose code is the Data Action's error_code.
 * Errors keep their cause for the log, which redacts the API key.
 *
 * The key travels in the URL, so the call goes through process/outbound_http.ts,
 * which keeps that URL away from Deno's tracing (see there).
 */

import { readBoundedBytes } from "../process/bounded_body.ts";
import {
  createOutboundHttp,
  inClientSpan,
  type OutboundAnswer,
  requestAttributes,
} from "../process/outbound_http.ts";
import type { Language, Units, UpstreamErrorCode } from "./contract.ts";
import { type Forecast, parseForecast } from "./forecast.ts";
import { type Place, placeParameters } from "./place.ts";
import { type Observation, parseObservation } from "./observation.ts";

export type { Observation } from "./observation.ts";
export type { Forecast } from "./forecast.ts";

/**
 * A current-weather answer is about 1 KiB, a 40-step forecast about 16 KiB;
 * anything far larger is not one.
 */
const MAX_UPSTREAM_BODY_BYTES = 256 * 1024;

/** What OpenWeatherMap is asked: the request's place, units and language, as validation left them. */
export interface CurrentWeatherQuery {
  place: Place;
  units: Units;
  lang: Language;
}

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
  /** OPENWEATHER_BASE_URL: the current-weather endpoint. */
  baseUrl: URL;
  /** OPENWEATHER_FORECAST_URL. */
  forecastUrl: URL;
  apiKey: string;
  timeoutMs: number;
  /** Deno may trace outbound calls (OTEL_DENO, Deno Deploy): never let it see the URL. */
  outboundTraced: boolean;
}

export interface OpenWeatherClient {
  /** Resolves with an observation or rejects with an UpstreamError, never anything else. */
  currentWeather(query: CurrentWeatherQuery): Promise<Observation>;
  /** Resolves with a forecast or rejects with an UpstreamError, never anything else. */
  forecast(query: CurrentWeatherQuery): Promise<Forecast>;
  /** Closes pooled connections; for shutdown. */
  close(): Promise<void>;
}

export function createOpenWeatherClient(options: OpenWeatherClientOptions): OpenWeatherClient {
  const http = createOutboundHttp({
    traced: options.outboundTraced,
    connectTimeoutMs: options.timeoutMs,
  });
  const describeFailure = (error: unknown) => {
    const upstream = error as UpstreamError;
    return { status: upstream.upstreamStatus, type: upstream.code };
  };

  async function call<T>(
    endpoint: URL,
    query: CurrentWeatherQuery,
    parse: (value: unknown) => T,
  ): Promise<T> {
    const url = queryUrl(endpoint, options.apiKey, query);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
      return await readAnswer(await http.get(url, timeout), parse);
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

  /** A traced call: only the safe attributes, no URL, no query. */
  const endpoint = <T>(name: string, url: URL, parse: (value: unknown) => T) => {
    const span = {
      traced: options.outboundTraced,
      name,
      attributes: requestAttributes(url),
      describeFailure,
    };
    return (query: CurrentWeatherQuery) => inClientSpan(span, () => call(url, query, parse));
  };

  return {
    currentWeather: endpoint(
      "OpenWeatherMap current weather",
      options.baseUrl,
      (value) => parseObservation(value),
    ),
    forecast: endpoint(
      "OpenWeatherMap forecast",
      options.forecastUrl,
      (value) => parseForecast(value),
    ),
    close: () => http.close(),
  };
}

function queryUrl(endpoint: URL, apiKey: string, query: CurrentWeatherQuery): URL {
  const url = new URL(endpoint);
  for (const [name, value] of placeParameters(query.place)) url.searchParams.set(name, value);
  url.searchParams.set("units", query.units);
  url.searchParams.set("lang", query.lang);
  url.searchParams.set("appid", apiKey);
  return url;
}

async function readAnswer<T>(
  { status, body: stream, discard }: OutboundAnswer,
  parse: (value: unknown) => T,
): Promise<T> {
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

  try {
    return parse(body);
  } catch (error) {
    throw new UpstreamError(
      "UPSTREAM_UNAVAILABLE",
      "OpenWeatherMap answered with an unexpected body",
      200,
      {
        cause: error,
      },
    );
  }
}

function errorForStatus(status: number): UpstreamError {
  switch (status) {
    case 404:
      return new UpstreamError("CITY_NOT_FOUND", "OpenWeatherMap does not know the place", status);
    case 400:
      // "Nothing to geocode" and friends: the place cannot be resolved.
      return new UpstreamError(
        "CITY_NOT_FOUND",
        "OpenWeatherMap could not geocode the place",
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
