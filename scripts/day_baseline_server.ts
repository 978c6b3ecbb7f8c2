/**
 * The baseline of the contact-centre day (scripts/bench_day.ts): what the
 * original tutorial's Flask app does, in Deno. Every request calls
 * OpenWeatherMap (no cache, no budget, no stale answers) and answers 200:
 * the weather, or `{ error_code }` when the call failed, with the service's
 * codes so that the day counts both alike.
 *
 * Reads HOST, PORT, OPENWEATHER_BASE_URL, OPENWEATHER_API_KEY and
 * OPENWEATHER_TIMEOUT_MS. GET /healthz answers 200 once it listens.
 */

const baseUrl = Deno.env.get("OPENWEATHER_BASE_URL");
const apiKey = Deno.env.get("OPENWEATHER_API_KEY");
const timeoutMs = Number(Deno.env.get("OPENWEATHER_TIMEOUT_MS") ?? 3000);
if (baseUrl === undefined || apiKey === undefined) {
  throw new Error("OPENWEATHER_BASE_URL and OPENWEATHER_API_KEY must be set");
}

interface CurrentWeather {
  name: string;
  main: { temp: number; humidity: number };
  weather: { description: string }[];
  wind: { speed: number };
}

/** The service's error codes for what went wrong, so the day tallies both alike. */
function errorCodeOf(status: number): string {
  if (status === 404 || status === 400) return "CITY_NOT_FOUND";
  if (status === 429) return "UPSTREAM_RATE_LIMITED";
  return "UPSTREAM_UNAVAILABLE";
}

async function weather(city: string): Promise<Record<string, unknown>> {
  const url = new URL(baseUrl!);
  url.search = new URLSearchParams({ q: city, appid: apiKey!, units: "metric" }).toString();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) {
      await response.body?.cancel();
      return { error_code: errorCodeOf(response.status) };
    }
    const body = await response.json() as CurrentWeather;
    return {
      city: body.name,
      temperature: body.main.temp,
      condition: body.weather[0]?.description ?? "",
      humidity: body.main.humidity,
      wind_speed: body.wind.speed,
    };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { error_code: timedOut ? "UPSTREAM_TIMEOUT" : "UPSTREAM_UNAVAILABLE" };
  }
}

Deno.serve(
  {
    hostname: Deno.env.get("HOST") ?? "127.0.0.1",
    port: Number(Deno.env.get("PORT") ?? 0),
    onListen: () => {},
  },
  async (request) => {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname === "/healthz") return Response.json({ ok: true });
    if (request.method !== "POST" || pathname !== "/data-action/weather") {
      return Response.json({ error_code: "NOT_FOUND" }, { status: 404 });
    }
    const { city_name } = await request.json() as { city_name?: unknown };
    if (typeof city_name !== "string") return Response.json({ error_code: "INVALID_INPUT" });
    return Response.json(await weather(city_name));
  },
);
