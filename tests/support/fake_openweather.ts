/**
 * A loopback stand-in for OpenWeatherMap's current-weather and forecast
 * endpoints that answers like the real one: the documented success bodies in
 * the requested units (the forecast is forecast_fixture.ts's), and the
 * documented error bodies (`cod` is a number on 401/429 and a
 * string on 400/404). Tests can replace the behaviour, hold answers back, and
 * read every request it received.
 */

import { forecastAnswer, type ForecastPlace } from "./forecast_fixture.ts";
import { freePort } from "./free_port.ts";
import { WAIT_MS, within } from "./wait.ts";

export const TEST_API_KEY = "test-owm-key-0123456789abcdef0123";

/** London as the API documentation shows it, in Kelvin (the "standard" units). Read only. */
export const LONDON = {
  coord: { lon: -0.1257, lat: 51.5085 },
  weather: [{ id: 500, main: "Rain", description: "light rain", icon: "10d" }],
  base: "stations",
  main: {
    temp: 284.2,
    feels_like: 283.5,
    temp_min: 283.15,
    temp_max: 285.37,
    pressure: 1012,
    humidity: 81,
  },
  visibility: 10000,
  wind: { speed: 4.12, deg: 80 },
  clouds: { all: 90 },
  dt: 1_764_000_000,
  sys: { type: 2, id: 2075535, country: "GB", sunrise: 1_763_969_000, sunset: 1_764_000_500 },
  timezone: 0,
  id: 2643743,
  name: "London",
  cod: 200,
};

/** "light rain" as OpenWeatherMap words it in a few of its languages (English for the others). */
const DESCRIPTIONS: Record<string, string> = {
  de: "leichter Regen",
  ru: "небольшой дождь",
  en: "light rain",
  es: "lluvia ligera",
  fr: "légère pluie",
  pt_br: "chuva leve",
  zh_cn: "小雨",
};

export const ERROR_BODIES = {
  401: {
    cod: 401,
    message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
  },
  404: { cod: "404", message: "city not found" },
  400: { cod: "400", message: "Nothing to geocode" },
  429: {
    cod: 429,
    message:
      "Your account is temporary blocked due to exceeding of requests limitation of your subscription type. Please choose the proper subscription https://openweathermap.org/price",
  },
} as const;

/** Cities the stand-in knows, by lower-case name, with their country and their offset in June. */
const KNOWN_CITIES: Record<string, ForecastPlace> = {
  london: { name: "London", country: "GB", timezone: 3600 },
  "são paulo": { name: "São Paulo", country: "BR", timezone: -10800 },
  "東京": { name: "Tokyo", country: "JP", timezone: 32400 },
  tokyo: { name: "Tokyo", country: "JP", timezone: 32400 },
  "new york": { name: "New York", country: "US", timezone: -14400 },
};

/** Postal codes the stand-in knows, as `zip={code},{country}` spells them. */
const KNOWN_POSTAL_CODES: Record<string, ForecastPlace> = {
  "SW1A 1AA,GB": KNOWN_CITIES.london!,
  "10001,US": KNOWN_CITIES["new york"]!,
};

export type UpstreamHandler = (request: Request, url: URL) => Response | Promise<Response>;

export interface FakeOpenWeather extends AsyncDisposable {
  /** The endpoint URL to configure as OPENWEATHER_BASE_URL. */
  readonly url: URL;
  /** The forecast endpoint's URL, to configure as OPENWEATHER_FORECAST_URL. */
  readonly forecastUrl: URL;
  /** Every request URL received, in order. */
  readonly requests: URL[];
  /** Replaces the realistic behaviour; `undefined` restores it. */
  respondWith(handler: UpstreamHandler | undefined): void;
  /** Resolves once `count` requests in all have arrived; fails after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Holds every answer until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

export interface FakeOpenWeatherOptions {
  /**
   * The forecast's first step, seconds since the epoch: FORECAST_START_S (for
   * a service on TestClock's start) unless told; firstStepAfter(Date.now())
   * for a service on the real clock.
   */
  forecastStartS?: number;
}

export function startFakeOpenWeather(
  apiKey = TEST_API_KEY,
  options: FakeOpenWeatherOptions = {},
): FakeOpenWeather {
  const requests: URL[] = [];
  let override: UpstreamHandler | undefined;
  let gate: Promise<void> = Promise.resolve();
  const releases = new Set<() => void>();
  const requestWaiters: { count: number; resolve: () => void }[] = [];

  const close = async () => {
    for (const release of [...releases]) release();
    await within(WAIT_MS, server.shutdown(), "the OpenWeatherMap stand-in to stop");
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      requests.push(url);
      for (const waiter of requestWaiters.filter((waiter) => requests.length >= waiter.count)) {
        requestWaiters.splice(requestWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      await gate;
      return override
        ? override(request, url)
        : realisticAnswer(url, apiKey, options.forecastStartS);
    },
  );

  return {
    url: new URL(`http://127.0.0.1:${server.addr.port}/data/2.5/weather`),
    forecastUrl: new URL(`http://127.0.0.1:${server.addr.port}/data/2.5/forecast`),
    requests,
    respondWith(handler) {
      override = handler;
    },
    waitForRequests(count, timeoutMs = WAIT_MS) {
      if (requests.length >= count) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      requestWaiters.push({ count, resolve });
      return within(
        timeoutMs,
        promise,
        () => `${count} requests at the OpenWeatherMap stand-in (${requests.length} came)`,
      );
    },
    hold() {
      const { promise, resolve } = Promise.withResolvers<void>();
      gate = promise;
      const release = () => {
        releases.delete(release);
        gate = Promise.resolve();
        resolve();
      };
      releases.add(release);
      return release;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function realisticAnswer(url: URL, apiKey: string, forecastStartS?: number): Response {
  if (url.searchParams.get("appid") !== apiKey) {
    return Response.json(ERROR_BODIES[401], { status: 401 });
  }
  const known = placeOf(url.searchParams);
  if (known === "bad request") return Response.json(ERROR_BODIES[400], { status: 400 });
  if (known === undefined) return Response.json(ERROR_BODIES[404], { status: 404 });
  const units = url.searchParams.get("units") ?? "standard";
  if (url.pathname.endsWith("/forecast")) {
    return Response.json(forecastAnswer(known, units, forecastStartS));
  }
  const lang = url.searchParams.get("lang") ?? "en";
  return Response.json(observation(known, units, lang));
}

/**
 * The place a query names, as OpenWeatherMap resolves `q`, `zip` and
 * `lat`/`lon`: any coordinates on land are somewhere, here always London.
 */
function placeOf(
  parameters: URLSearchParams,
): ForecastPlace | undefined | "bad request" {
  const zip = parameters.get("zip");
  if (zip !== null) return KNOWN_POSTAL_CODES[zip];
  const [lat, lon] = [parameters.get("lat"), parameters.get("lon")];
  if (lat !== null || lon !== null) {
    const valid = Math.abs(Number(lat)) <= 90 && Math.abs(Number(lon)) <= 180;
    return valid ? KNOWN_CITIES.london : "bad request";
  }
  const [city = "", country] = (parameters.get("q") ?? "").split(",");
  if (city.trim() === "") return "bad request";
  const known = KNOWN_CITIES[city.trim().toLowerCase()];
  return known === undefined || (country !== undefined && country !== known.country)
    ? undefined
    : known;
}

/** The London fixture, converted the way OpenWeatherMap converts for `units`. */
function observation(
  place: { name: string; country: string } = KNOWN_CITIES.london!,
  units = "standard",
  lang = "en",
) {
  const temperature = (kelvin: number) =>
    units === "metric"
      ? round2(kelvin - 273.15)
      : units === "imperial"
      ? round2((kelvin - 273.15) * 9 / 5 + 32)
      : kelvin;
  const windSpeed = units === "imperial" ? round2(LONDON.wind.speed * 2.236936) : LONDON.wind.speed;
  return {
    ...LONDON,
    name: place.name,
    sys: { ...LONDON.sys, country: place.country },
    weather: [{ ...LONDON.weather[0]!, description: DESCRIPTIONS[lang] ?? DESCRIPTIONS.en! }],
    main: {
      ...LONDON.main,
      temp: temperature(LONDON.main.temp),
      feels_like: temperature(LONDON.main.feels_like),
      temp_min: temperature(LONDON.main.temp_min),
      temp_max: temperature(LONDON.main.temp_max),
    },
    wind: { ...LONDON.wind, speed: windSpeed },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * A TCP server that answers every connection with the given raw bytes and
 * closes: for answers `Deno.serve` will not produce, such as a body shorter
 * than its Content-Length.
 */
export function startRawHttpServer(
  raw: string,
): { url: URL; close: () => Promise<void> } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  const accepting = (async () => {
    for await (const connection of listener) {
      connections.add(connection);
      (async () => {
        try {
          // Read the request head before answering, as a real server would.
          await connection.read(new Uint8Array(64 * 1024));
          await connection.write(new TextEncoder().encode(raw));
        } catch {
          // The client may hang up first; that is its business.
        } finally {
          connections.delete(connection);
          try {
            connection.close();
          } catch { /* already closed */ }
        }
      })();
    }
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  const close = async () => {
    listener.close();
    for (const connection of connections) {
      try {
        connection.close();
      } catch { /* already closed */ }
    }
    await within(WAIT_MS, accepting, "the raw HTTP server to stop");
  };
  return {
    url: new URL(`http://127.0.0.1:${port}/data/2.5/weather`),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A loopback port with nothing listening on it: connecting is refused at once. */
export function closedPortUrl(): URL {
  return new URL(`http://127.0.0.1:${freePort()}/data/2.5/weather`);
}
