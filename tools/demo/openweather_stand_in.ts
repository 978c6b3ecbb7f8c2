/**
 * OpenWeatherMap, as far as `deno task demo` needs it: a loopback server that
 * answers `/data/2.5/weather` and `/data/2.5/forecast` for a handful of real
 * places, in OpenWeatherMap's shapes, units and languages, so a newcomer sees
 * the service work with no API key and no network.
 *
 * The weather is made up but plausible, and fixed: each place has one
 * condition now and a simple day ahead (a daily temperature curve, and a
 * rainy or stormy spell where the place has one). Times come from the
 * demo's clock, so answers are always current.
 */

/** The key the demo configures the service with; any other gets OpenWeatherMap's 401. */
export const DEMO_API_KEY = "demo-key-0000000000000000000000";

export interface OpenWeatherStandIn extends AsyncDisposable {
  /** For OPENWEATHER_BASE_URL. */
  readonly currentUrl: URL;
  /** For OPENWEATHER_FORECAST_URL. */
  readonly forecastUrl: URL;
  /** While true, every request is answered 503, as during an outage. */
  outage: boolean;
  /** Requests received, to show how few reach OpenWeatherMap. */
  readonly requestCount: number;
  close(): Promise<void>;
}

/** One of OpenWeatherMap's conditions, with its wording in a few of its languages. */
interface Condition {
  id: number;
  main: string;
  icon: string;
  words: { en: string; es: string; fr: string; de: string };
}

const CONDITIONS = {
  lightRain: {
    id: 500,
    main: "Rain",
    icon: "10d",
    words: { en: "light rain", es: "lluvia ligera", fr: "légère pluie", de: "leichter Regen" },
  },
  clearSky: {
    id: 800,
    main: "Clear",
    icon: "01d",
    words: { en: "clear sky", es: "cielo claro", fr: "ciel dégagé", de: "klarer Himmel" },
  },
  brokenClouds: {
    id: 803,
    main: "Clouds",
    icon: "04d",
    words: { en: "broken clouds", es: "muy nuboso", fr: "nuageux", de: "Überwiegend bewölkt" },
  },
  thunderstorm: {
    id: 211,
    main: "Thunderstorm",
    icon: "11d",
    words: { en: "thunderstorm", es: "tormenta", fr: "orage", de: "Gewitter" },
  },
  scatteredClouds: {
    id: 802,
    main: "Clouds",
    icon: "03d",
    words: {
      en: "scattered clouds",
      es: "nubes dispersas",
      fr: "nuages épars",
      de: "Mäßig bewölkt",
    },
  },
} as const satisfies Record<string, Condition>;

interface Place {
  id: number;
  name: string;
  country: string;
  lat: number;
  lon: number;
  /** Seconds east of UTC. */
  timezone: number;
  /** Now: °C, relative humidity, wind in m/s. */
  celsius: number;
  humidity: number;
  wind: number;
  now: Condition;
  /** The spell in the forecast: its condition and hours from now it starts and ends. */
  spell?: { condition: Condition; fromHour: number; toHour: number; rainMm: number };
  postalCodes: string[];
}

const PLACES: readonly Place[] = [
  {
    id: 2643743,
    name: "London",
    country: "GB",
    lat: 51.5085,
    lon: -0.1257,
    timezone: 0,
    celsius: 11.1,
    humidity: 81,
    wind: 4.1,
    now: CONDITIONS.lightRain,
    spell: { condition: CONDITIONS.lightRain, fromHour: 0, toHour: 9, rainMm: 0.8 },
    postalCodes: ["SW1A 1AA"],
  },
  {
    id: 5128581,
    name: "New York",
    country: "US",
    lat: 40.7143,
    lon: -74.006,
    timezone: -18000,
    celsius: 7.4,
    humidity: 58,
    wind: 5.7,
    now: CONDITIONS.brokenClouds,
    spell: { condition: CONDITIONS.thunderstorm, fromHour: 27, toHour: 33, rainMm: 6.2 },
    postalCodes: ["10001"],
  },
  {
    id: 3117735,
    name: "Madrid",
    country: "ES",
    lat: 40.4165,
    lon: -3.7026,
    timezone: 3600,
    celsius: 14.2,
    humidity: 44,
    wind: 2.6,
    now: CONDITIONS.clearSky,
    postalCodes: ["28013"],
  },
  {
    id: 3530597,
    name: "Mexico City",
    country: "MX",
    lat: 19.4285,
    lon: -99.1277,
    timezone: -21600,
    celsius: 19.8,
    humidity: 37,
    wind: 2.1,
    now: CONDITIONS.scatteredClouds,
    spell: { condition: CONDITIONS.thunderstorm, fromHour: 6, toHour: 12, rainMm: 4.5 },
    postalCodes: ["06000"],
  },
  {
    id: 1850147,
    name: "Tokyo",
    country: "JP",
    lat: 35.6895,
    lon: 139.6917,
    timezone: 32400,
    celsius: 9.6,
    humidity: 52,
    wind: 3.3,
    now: CONDITIONS.clearSky,
    postalCodes: ["100-0001"],
  },
];

const ERRORS = {
  401: {
    cod: 401,
    message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
  },
  404: { cod: "404", message: "city not found" },
  400: { cod: "400", message: "Nothing to geocode" },
  // OpenWeatherMap documents no body for its 5xx answers; this is what a gateway would send.
  503: { cod: "503", message: "Service Unavailable" },
} as const;

/** The place a query names, as OpenWeatherMap resolves `q`, `zip` and `lat`/`lon`. */
function placeOf(query: URLSearchParams): Place | "not found" | "bad request" {
  const zip = query.get("zip");
  if (zip !== null) {
    const [code = "", country] = zip.split(",");
    return PLACES.find((place) =>
      place.postalCodes.includes(code.trim()) && (!country || place.country === country)
    ) ?? "not found";
  }
  const [lat, lon] = [query.get("lat"), query.get("lon")].map(Number);
  if (query.has("lat") || query.has("lon")) {
    if (!(Math.abs(lat!) <= 90 && Math.abs(lon!) <= 180)) return "bad request";
    // OpenWeatherMap answers for any point on Earth; the demo knows five, and answers the nearest.
    const distance = (place: Place) => (place.lat - lat!) ** 2 + (place.lon - lon!) ** 2;
    return PLACES.reduce((nearest, place) => distance(place) < distance(nearest) ? place : nearest);
  }
  const [name = "", country] = (query.get("q") ?? "").split(",").map((part) => part.trim());
  if (name === "") return "bad request";
  return PLACES.find((place) =>
    place.name.toLowerCase() === name.toLowerCase() &&
    (!country || place.country === country.toUpperCase())
  ) ?? "not found";
}

/** Converts °C and m/s as OpenWeatherMap does for `units` (standard: Kelvin). */
function converter(units: string) {
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    temperature: (celsius: number) =>
      round(
        units === "metric"
          ? celsius
          : units === "imperial"
          ? celsius * 9 / 5 + 32
          : celsius + 273.15,
      ),
    speed: (metresPerSecond: number) =>
      round(units === "imperial" ? metresPerSecond * 2.236936 : metresPerSecond),
  };
}

function describe(condition: Condition, lang: string) {
  const words = condition.words[lang as keyof Condition["words"]] ?? condition.words.en;
  return { id: condition.id, main: condition.main, description: words, icon: condition.icon };
}

function observation(place: Place, units: string, lang: string, nowS: number) {
  const { temperature, speed } = converter(units);
  return {
    coord: { lon: place.lon, lat: place.lat },
    weather: [describe(place.now, lang)],
    base: "stations",
    main: {
      temp: temperature(place.celsius),
      feels_like: temperature(place.celsius - 1.2),
      temp_min: temperature(place.celsius - 1.5),
      temp_max: temperature(place.celsius + 1.3),
      pressure: 1014,
      humidity: place.humidity,
    },
    visibility: 10000,
    wind: { speed: speed(place.wind), deg: 240 },
    clouds: { all: place.now.id === 800 ? 0 : 75 },
    dt: nowS - (nowS % 600),
    sys: { country: place.country, sunrise: nowS - 6 * 3600, sunset: nowS + 3 * 3600 },
    timezone: place.timezone,
    id: place.id,
    name: place.name,
    cod: 200,
  };
}

const STEP_S = 3 * 3600;

/** 40 steps on the UTC hours 0, 3, ..., 21 after now, as the 5 day / 3 hour forecast has them. */
function forecast(place: Place, units: string, lang: string, nowS: number) {
  const { temperature, speed } = converter(units);
  const first = (Math.floor(nowS / STEP_S) + 1) * STEP_S;
  const list = Array.from({ length: 40 }, (_, index) => {
    const dt = first + index * STEP_S;
    const hoursAhead = (dt - nowS) / 3600;
    const localHour = ((dt + place.timezone) / 3600) % 24;
    // Coolest at 04:00, warmest at 16:00, 8 °C apart.
    const celsius = place.celsius + 4 * Math.sin(((localHour - 10) / 24) * 2 * Math.PI);
    const spell = place.spell && hoursAhead >= place.spell.fromHour &&
        hoursAhead < place.spell.toHour
      ? place.spell
      : undefined;
    const condition = spell?.condition ??
      (index % 4 === 0 ? CONDITIONS.scatteredClouds : place.now);
    const wet = spell !== undefined;
    return {
      dt,
      main: {
        temp: temperature(celsius),
        feels_like: temperature(celsius - 1),
        temp_min: temperature(celsius - 0.5),
        temp_max: temperature(celsius + 0.5),
        pressure: 1013,
        humidity: place.humidity,
      },
      weather: [describe(condition, lang)],
      clouds: { all: wet ? 90 : 40 },
      wind: { speed: speed(place.wind * (condition.id === 211 ? 2.5 : 1)), deg: 230 },
      visibility: 10000,
      pop: wet ? 0.8 : 0.1,
      ...(wet ? { rain: { "3h": spell.rainMm } } : {}),
      sys: { pod: localHour >= 6 && localHour < 18 ? "d" : "n" },
      dt_txt: new Date(dt * 1000).toISOString().replace("T", " ").slice(0, 19),
    };
  });
  return {
    cod: "200",
    message: 0,
    cnt: list.length,
    list,
    city: {
      id: place.id,
      name: place.name,
      coord: { lat: place.lat, lon: place.lon },
      country: place.country,
      timezone: place.timezone,
      sunrise: nowS - 6 * 3600,
      sunset: nowS + 3 * 3600,
    },
  };
}

export function startOpenWeatherStandIn(options: { now: () => number }): OpenWeatherStandIn {
  let requestCount = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    requestCount++;
    const url = new URL(request.url);
    if (standIn.outage) return Response.json(ERRORS[503], { status: 503 });
    if (url.searchParams.get("appid") !== DEMO_API_KEY) {
      return Response.json(ERRORS[401], { status: 401 });
    }
    const place = placeOf(url.searchParams);
    if (place === "bad request") return Response.json(ERRORS[400], { status: 400 });
    if (place === "not found") return Response.json(ERRORS[404], { status: 404 });
    const units = url.searchParams.get("units") ?? "standard";
    const lang = url.searchParams.get("lang") ?? "en";
    const nowS = Math.floor(options.now() / 1000);
    if (url.pathname === "/data/2.5/forecast") {
      return Response.json(forecast(place, units, lang, nowS));
    }
    if (url.pathname === "/data/2.5/weather") {
      return Response.json(observation(place, units, lang, nowS));
    }
    return Response.json({ cod: "404", message: "Internal error" }, { status: 404 });
  });
  const base = `http://127.0.0.1:${server.addr.port}/data/2.5/`;
  const close = () => server.shutdown();
  const standIn: OpenWeatherStandIn = {
    currentUrl: new URL("weather", base),
    forecastUrl: new URL("forecast", base),
    outage: false,
    get requestCount() {
      return requestCount;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return standIn;
}
