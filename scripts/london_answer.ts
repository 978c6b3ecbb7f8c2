/**
 * A successful weather answer for London, as the service gives it: what both
 * floors of `deno task bench` answer with, so they send the same bytes.
 */
export const LONDON_ANSWER = {
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
  condition_group: "rain",
  severe: false,
  temperature_rounded: 11,
  summary: "London: Light rain, 11 degrees Celsius.",
  lang: "en",
};
