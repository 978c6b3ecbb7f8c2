/**
 * The floor for `deno task bench`: a bare Deno.serve handler that returns the
 * same JSON as a successful weather answer, with no routing, auth or cache.
 */

const body = JSON.stringify({
  temperature: 11.05,
  feels_like: 10.35,
  temperature_min: 10,
  temperature_max: 12.22,
  temperature_unit: "celsius",
  condition: "Light rain",
  condition_code: 500,
  humidity: 81,
  pressure: 1012,
  wind_speed: 4.12,
  wind_speed_unit: "meters per second",
  wind_direction: 80,
  cloudiness: 90,
  visibility: 10000,
  city: "London",
  country: "GB",
  units: "metric",
  observed_at: "2025-11-24T16:00:00.000Z",
  stale: false,
});

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  () => new Response(body, { headers: { "content-type": "application/json; charset=utf-8" } }),
);
