/**
 * The weather domain's settings: OpenWeatherMap, its protection, the caches
 * of both actions (weather and forecast), the deadline.
 */

import {
  MIN_SECRET_LENGTH,
  type VariableReader,
  type VariableSpecs,
} from "../process/variables.ts";

export const WEATHER_VARIABLES = {
  OPENWEATHER_API_KEY: {
    documentedDefault: "(required)",
    meaning: "OpenWeatherMap API key, at least 8 characters. Never logged or returned",
    secret: true,
  },
  OPENWEATHER_API_KEY_FILE: {
    meaning:
      "The API key from a file under `./secrets/`, `/run/secrets/` or `$CREDENTIALS_DIRECTORY` (read at start, trimmed), instead of `OPENWEATHER_API_KEY`",
  },
  OPENWEATHER_BASE_URL: {
    default: "https://api.openweathermap.org/data/2.5/weather",
    meaning: "The full current-weather endpoint URL, `http` or `https`, without credentials",
  },
  OPENWEATHER_FORECAST_URL: {
    default: "https://api.openweathermap.org/data/2.5/forecast",
    meaning:
      "The full 5 day / 3 hour forecast endpoint URL, for the forecast action, `http` or `https`, without credentials",
  },
  OPENWEATHER_TIMEOUT_MS: {
    default: "3000",
    meaning:
      "Time allowed for OpenWeatherMap's whole answer, `1`–`60000` ms; past it the action answers `UPSTREAM_TIMEOUT`",
  },
  OPENWEATHER_MAX_CALLS_PER_MINUTE: {
    default: "60",
    meaning:
      "Upstream calls allowed in any 60 s (the free plan's limit), both actions together; past it, stale answers or `UPSTREAM_RATE_LIMITED` without calling",
  },
  OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT: {
    default: "50",
    meaning:
      "The share of that budget, `1`–`100` %, that names never answered before (or last answered `CITY_NOT_FOUND`) may use, so random names cannot stop known cities being refreshed",
  },
  OPENWEATHER_REFRESH_SHARE_PERCENT: {
    default: "50",
    meaning:
      "The share of that budget, `0`–`100` %, that refreshes in the background may use: one starts only while the calls in the last 60 s are below it, so the rest stays for callers' own misses. Never more than `100` minus the unknown names' share, so new names keep theirs",
  },
  OPENWEATHER_BACKOFF_S: {
    default: "60",
    meaning:
      "After OpenWeatherMap answers 429 or 401, no calls for this long (stale answers are served meanwhile)",
  },
  WEATHER_CACHE_TTL_S: {
    default: "600",
    meaning:
      "How long a weather answer is served from the cache (OpenWeatherMap updates about every 10 minutes)",
  },
  FORECAST_CACHE_TTL_S: {
    default: "1800",
    meaning:
      "How long a forecast is served from the cache (OpenWeatherMap recomputes forecasts every few hours)",
  },
  WEATHER_REFRESH_AHEAD_PERCENT: {
    default: "10",
    meaning:
      "Refresh ahead: an answer (weather or forecast) a caller was answered from is refreshed in the background this share of its TTL, `0`–`50` %, before it expires, so the callers after it do not wait for OpenWeatherMap; `0` turns it off",
  },
  WEATHER_NOT_FOUND_TTL_S: {
    default: "300",
    meaning: "How long a `CITY_NOT_FOUND` answer is cached, by either action",
  },
  WEATHER_STALE_MAX_S: {
    default: "3600",
    meaning:
      "How long past its TTL an answer (weather or forecast) may still be served, marked `stale`, while OpenWeatherMap fails",
  },
  WEATHER_CACHE_MAX_ENTRIES: {
    default: "10000",
    meaning:
      "How many distinct requests (place, units, lang) each action's cache holds: the weather's, and the forecast's; also how many places this instance remembers as known (answered in the last 30 days), the least recently answered dropped first",
  },
  SEVERE_WIND_METRES_PER_SECOND: {
    default: "17.2",
    meaning:
      "Wind at or above this speed, in m/s whatever the request's units, makes an answer `severe` (`high_wind`); the default is gale force, Beaufort 8; in a forecast, a step with such wind",
  },
  FORECAST_RAIN_PROBABILITY_PERCENT: {
    default: "50",
    meaning:
      "From this chance of precipitation, `1`–`100` %, the forecast's `next_hours_rain_expected` is true (as it is when a step has any rain or snow)",
  },
  REQUEST_DEADLINE_MS: {
    default: "5000",
    deployDefault: "3500",
    meaning:
      "Every action request is answered within this, `100`–`60000` ms. Keep it below the Genesys action timeout (and, on Deno Deploy, below `SHUTDOWN_GRACE_MS`)",
  },
} as const satisfies VariableSpecs;

export interface WeatherConfig {
  readonly openWeather: {
    readonly apiKey: string;
    readonly baseUrl: URL;
    readonly forecastUrl: URL;
    readonly timeoutMs: number;
    readonly maxCallsPerMinute: number;
    readonly unknownCitySharePercent: number;
    readonly refreshSharePercent: number;
    readonly backoffS: number;
  };
  readonly weatherCache: {
    readonly ttlS: number;
    readonly forecastTtlS: number;
    readonly refreshAheadPercent: number;
    readonly notFoundTtlS: number;
    readonly staleMaxS: number;
    readonly maxEntries: number;
  };
  readonly severeWindMetresPerSecond: number;
  readonly rainProbabilityPercent: number;
  readonly requestDeadlineMs: number;
}

export function readWeatherConfig(
  vars: VariableReader<keyof typeof WEATHER_VARIABLES>,
): WeatherConfig {
  return {
    openWeather: {
      apiKey: vars.secretOrFile("OPENWEATHER_API_KEY", "OPENWEATHER_API_KEY_FILE", {
        minLength: MIN_SECRET_LENGTH,
      }),
      baseUrl: vars.httpUrl("OPENWEATHER_BASE_URL"),
      forecastUrl: vars.httpUrl("OPENWEATHER_FORECAST_URL"),
      timeoutMs: vars.integer("OPENWEATHER_TIMEOUT_MS", { min: 1, max: 60_000 }),
      maxCallsPerMinute: vars.integer("OPENWEATHER_MAX_CALLS_PER_MINUTE", { min: 1, max: 100_000 }),
      unknownCitySharePercent: vars.integer("OPENWEATHER_UNKNOWN_CITY_SHARE_PERCENT", {
        min: 1,
        max: 100,
      }),
      refreshSharePercent: vars.integer("OPENWEATHER_REFRESH_SHARE_PERCENT", { min: 0, max: 100 }),
      backoffS: vars.integer("OPENWEATHER_BACKOFF_S", { min: 0, max: 86_400 }),
    },
    weatherCache: {
      ttlS: vars.integer("WEATHER_CACHE_TTL_S", { min: 0, max: 86_400 }),
      forecastTtlS: vars.integer("FORECAST_CACHE_TTL_S", { min: 0, max: 86_400 }),
      refreshAheadPercent: vars.integer("WEATHER_REFRESH_AHEAD_PERCENT", { min: 0, max: 50 }),
      notFoundTtlS: vars.integer("WEATHER_NOT_FOUND_TTL_S", { min: 0, max: 86_400 }),
      staleMaxS: vars.integer("WEATHER_STALE_MAX_S", { min: 0, max: 7 * 86_400 }),
      maxEntries: vars.integer("WEATHER_CACHE_MAX_ENTRIES", { min: 1, max: 1_000_000 }),
    },
    severeWindMetresPerSecond: vars.decimal("SEVERE_WIND_METRES_PER_SECOND", {
      min: 0.1,
      max: 200,
    }),
    rainProbabilityPercent: vars.integer("FORECAST_RAIN_PROBABILITY_PERCENT", {
      min: 1,
      max: 100,
    }),
    requestDeadlineMs: vars.integer("REQUEST_DEADLINE_MS", { min: 100, max: 60_000 }),
  };
}
