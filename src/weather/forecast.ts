/**
 * The part of OpenWeatherMap's 5 day / 3 hour forecast this service uses
 * (`GET /data/2.5/forecast`), and the check that an answer, or a stored copy
 * of one, has that shape.
 *
 * Hand-written like observation.ts, for the same reason (no zod at run
 * time); ForecastSchema in tools/contract_schema.ts is the declaration it
 * must agree with (`deno check` holds the types together, a property test the
 * accepted values). Unlike an observation, a forecast without the place's UTC
 * offset or a step without its time or its probability of precipitation is
 * refused: the action's days and probabilities are made of them, and are
 * never guessed.
 */

import { at, number, optional, record, text, UnexpectedShapeError } from "./observation.ts";

/** One 3-hour step: its time, temperature, condition, wind and precipitation. */
export interface ForecastStep {
  /** The step's time, seconds since the epoch (UTC). */
  dt: number;
  main: { temp: number };
  weather: { id?: number | undefined; description: string }[];
  wind?: { speed?: number | undefined } | undefined;
  /** Probability of precipitation, 0 to 1. */
  pop: number;
  /** Volumes in mm over the step's 3 hours. */
  rain?: { "3h"?: number | undefined } | undefined;
  snow?: { "3h"?: number | undefined } | undefined;
}

export interface Forecast {
  /** At least one step, in time order as OpenWeatherMap sends them. */
  list: ForecastStep[];
  city: {
    name?: string | undefined;
    country?: string | undefined;
    /** The place's offset from UTC, in seconds: its calendar days are made from it. */
    timezone: number;
  };
}

/** Time zones run from UTC-12 to UTC+14; anything beyond is not an offset. */
const MAX_OFFSET_S = 14 * 3600;

/** The forecast in `value`, as ForecastSchema.parse() returns it; else UnexpectedShapeError. */
export function parseForecast(value: unknown, path = ""): Forecast {
  const answer = record(value, path);
  const listPath = at(path, "list");
  if (!Array.isArray(answer.list) || answer.list.length < 1) {
    throw new UnexpectedShapeError(listPath, "a non-empty array");
  }
  const list = answer.list.map((step, index) => parseStep(step, at(listPath, String(index))));
  const cityPath = at(path, "city");
  const city = record(answer.city, cityPath);
  const timezone = number(city.timezone, at(cityPath, "timezone"));
  if (!Number.isInteger(timezone) || Math.abs(timezone) > MAX_OFFSET_S) {
    throw new UnexpectedShapeError(at(cityPath, "timezone"), "an offset in whole seconds");
  }
  return {
    list,
    city: {
      ...optional(city, "name", text, cityPath),
      ...optional(city, "country", text, cityPath),
      timezone,
    },
  };
}

function parseStep(value: unknown, path: string): ForecastStep {
  const step = record(value, path);
  const weatherPath = at(path, "weather");
  if (!Array.isArray(step.weather) || step.weather.length < 1) {
    throw new UnexpectedShapeError(weatherPath, "a non-empty array");
  }
  const weather = step.weather.map((item, index) => {
    const itemPath = at(weatherPath, String(index));
    const element = record(item, itemPath);
    return {
      ...optional(element, "id", number, itemPath),
      description: text(element.description, at(itemPath, "description")),
    };
  });
  const mainPath = at(path, "main");
  const pop = number(step.pop, at(path, "pop"));
  if (pop < 0 || pop > 1) throw new UnexpectedShapeError(at(path, "pop"), "from 0 to 1");
  return {
    dt: number(step.dt, at(path, "dt")),
    main: { temp: number(record(step.main, mainPath).temp, at(mainPath, "temp")) },
    weather,
    ...optional(step, "wind", wind, path),
    pop,
    ...optional(step, "rain", volume, path),
    ...optional(step, "snow", volume, path),
  };
}

function wind(value: unknown, path: string): NonNullable<ForecastStep["wind"]> {
  return optional(record(value, path), "speed", number, path);
}

function volume(value: unknown, path: string): { "3h"?: number | undefined } {
  return optional(record(value, path), "3h", number, path);
}
