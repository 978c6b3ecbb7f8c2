/**
 * A realistic 5 day / 3 hour forecast, as OpenWeatherMap's `/data/2.5/forecast`
 * answers it: 40 steps on the UTC hours 0, 3, ..., 21, each with `dt`,
 * `main`, `weather[0]`, `wind`, `pop` (0 to 1) and, where it rains, `rain.3h`,
 * plus `city` with its UTC offset in `timezone`; `cod` is the string "200".
 *
 * The first 13 steps are written out by hand, so that tests can work their
 * expectations out by hand too. For New York in June (UTC-4) and a clock at
 * 2026-06-01T12:00Z (08:00 there), steps 1 to 5 are the rest of today, two of
 * them after UTC midnight, and steps 6 to 13 are tomorrow; the other 27 are
 * fair weather.
 */

/** The first step's time: the next 3-hour step after TestClock's start, 2026-06-01T12:00Z. */
export const FORECAST_START_S = Date.parse("2026-06-01T15:00:00Z") / 1000;

const STEP_S = 3 * 3600;

/**
 * The first step of a forecast made at `nowMs`: the next 3-hour step on the UTC
 * hours, for a stand-in that runs beside a service on the real clock.
 */
export function firstStepAfter(nowMs: number): number {
  return (Math.floor(nowMs / 1000 / STEP_S) + 1) * STEP_S;
}

/** One step in Celsius and m/s; the stand-in converts it for `units`. */
export interface FixtureStep {
  celsius: number;
  id: number;
  description: string;
  pop: number;
  wind: number;
  rain?: number;
}

/** Steps 1 to 13; the comments give the time in New York (UTC-4). */
export const FORECAST_STEPS: readonly FixtureStep[] = [
  // Today, 2026-06-01
  { celsius: 21.4, id: 803, description: "broken clouds", pop: 0.2, wind: 3.1 }, // 11:00
  { celsius: 24.6, id: 500, description: "light rain", pop: 0.55, wind: 4.0, rain: 0.8 }, // 14:00
  { celsius: 23.2, id: 501, description: "moderate rain", pop: 0.8, wind: 5.2, rain: 2.1 }, // 17:00
  { celsius: 19.8, id: 802, description: "scattered clouds", pop: 0.3, wind: 3.0 }, // 20:00, 00:00Z
  { celsius: 17.5, id: 800, description: "clear sky", pop: 0, wind: 2.2 }, // 23:00, 03:00Z
  // Tomorrow, 2026-06-02
  { celsius: 16.1, id: 800, description: "clear sky", pop: 0, wind: 2.0 }, // 02:00
  { celsius: 15.4, id: 800, description: "clear sky", pop: 0, wind: 1.8 }, // 05:00
  { celsius: 18.9, id: 801, description: "few clouds", pop: 0.1, wind: 2.5 }, // 08:00
  { celsius: 23.7, id: 802, description: "scattered clouds", pop: 0.15, wind: 3.3 }, // 11:00
  { celsius: 27.8, id: 211, description: "thunderstorm", pop: 0.9, wind: 9.8, rain: 4.5 }, // 14:00
  { celsius: 26.2, id: 502, description: "heavy intensity rain", pop: 1, wind: 7.1, rain: 12.3 }, // 17:00
  { celsius: 21.9, id: 500, description: "light rain", pop: 0.6, wind: 4.4, rain: 0.5 }, // 20:00
  { celsius: 19.3, id: 804, description: "overcast clouds", pop: 0.4, wind: 3.9 }, // 23:00
];

/** Steps 14 to 40: fair weather, a daily swing of a few degrees. */
function fairStep(index: number): FixtureStep {
  return {
    celsius: Math.round((20 + 4 * Math.sin((index * Math.PI) / 4)) * 10) / 10,
    id: 800,
    description: "clear sky",
    pop: 0,
    wind: 2.5,
  };
}

export interface ForecastPlace {
  name: string;
  country: string;
  /** Offset from UTC in seconds, as OpenWeatherMap gives it. */
  timezone: number;
}

/**
 * The forecast for `place`, converted as OpenWeatherMap converts for `units`,
 * its first step at `startS` (FORECAST_START_S unless told).
 */
export function forecastAnswer(
  place: ForecastPlace,
  units = "standard",
  startS = FORECAST_START_S,
): Record<string, unknown> {
  const temperature = (celsius: number) =>
    units === "metric"
      ? celsius
      : units === "imperial"
      ? Math.round((celsius * 9 / 5 + 32) * 100) / 100
      : Math.round((celsius + 273.15) * 100) / 100;
  const windSpeed = (metresPerSecond: number) =>
    units === "imperial" ? Math.round(metresPerSecond * 2.236936 * 100) / 100 : metresPerSecond;
  const list = Array.from({ length: 40 }, (_, index) => {
    const step = FORECAST_STEPS[index] ?? fairStep(index);
    const dt = startS + index * STEP_S;
    return {
      dt,
      main: {
        temp: temperature(step.celsius),
        feels_like: temperature(step.celsius - 0.4),
        temp_min: temperature(step.celsius),
        temp_max: temperature(step.celsius),
        pressure: 1015,
        sea_level: 1015,
        grnd_level: 1013,
        humidity: 60,
        temp_kf: 0,
      },
      weather: [{
        id: step.id,
        main: step.description,
        description: step.description,
        icon: "01d",
      }],
      clouds: { all: step.id === 800 ? 0 : 75 },
      wind: { speed: windSpeed(step.wind), deg: 220, gust: windSpeed(step.wind * 1.5) },
      visibility: 10000,
      pop: step.pop,
      ...(step.rain === undefined ? {} : { rain: { "3h": step.rain } }),
      sys: { pod: "d" },
      dt_txt: new Date(dt * 1000).toISOString().replace("T", " ").slice(0, 19),
    };
  });
  return {
    cod: "200",
    message: 0,
    cnt: list.length,
    list,
    city: {
      id: 5128581,
      name: place.name,
      coord: { lat: 40.7143, lon: -74.006 },
      country: place.country,
      population: 8175133,
      timezone: place.timezone,
      sunrise: startS - 6 * 3600,
      sunset: startS + 9 * 3600,
    },
  };
}
