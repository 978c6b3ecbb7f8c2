/**
 * The part of OpenWeatherMap's answer this service uses, and the check that
 * an answer (or a stored copy of one) has that shape.
 *
 * Hand-written rather than zod so the service does not load zod at run time;
 * ObservationSchema in contract_schema.ts is the declaration it must agree
 * with: `deno check` holds the types together and a property test
 * (tests/weather/observation_test.ts) the accepted values and the results.
 * Like the schema, it accepts only finite numbers and returns a copy holding
 * the known fields only, at every level.
 */

/** Everything but the temperature and the description may be absent. */
export interface Observation {
  weather: { id?: number | undefined; description: string }[];
  main: {
    temp: number;
    feels_like?: number | undefined;
    temp_min?: number | undefined;
    temp_max?: number | undefined;
    pressure?: number | undefined;
    humidity?: number | undefined;
  };
  visibility?: number | undefined;
  wind?: { speed?: number | undefined; deg?: number | undefined } | undefined;
  clouds?: { all?: number | undefined } | undefined;
  dt?: number | undefined;
  sys?: { country?: string | undefined } | undefined;
  name?: string | undefined;
}

/** A value that is not an observation: `path` names the first field found wrong, for the log. */
export class UnexpectedShapeError extends Error {
  override name = "UnexpectedShapeError";
  constructor(readonly path: string, readonly expected: string) {
    super(`${path === "" ? "The value" : `"${path}"`} must be ${expected}`);
  }
}

/** The observation in `value`, as ObservationSchema.parse() returns it; else UnexpectedShapeError. */
export function parseObservation(value: unknown, path = ""): Observation {
  const answer = record(value, path);
  const weatherList = answer.weather;
  if (!Array.isArray(weatherList)) throw new UnexpectedShapeError(at(path, "weather"), "an array");
  const weather: Observation["weather"] = [];
  for (let index = 0; index < weatherList.length; index++) {
    const elementPath = at(path, `weather.${index}`);
    const element = record(weatherList[index], elementPath);
    const item: Observation["weather"][number] = {
      ...optional(element, "id", number, elementPath),
      description: text(element.description, at(elementPath, "description")),
    };
    weather.push(item);
  }
  if (weather.length < 1) throw new UnexpectedShapeError(at(path, "weather"), "a non-empty array");

  const mainPath = at(path, "main");
  const main = record(answer.main, mainPath);
  return {
    weather,
    main: {
      temp: number(main.temp, at(mainPath, "temp")),
      ...optional(main, "feels_like", number, mainPath),
      ...optional(main, "temp_min", number, mainPath),
      ...optional(main, "temp_max", number, mainPath),
      ...optional(main, "pressure", number, mainPath),
      ...optional(main, "humidity", number, mainPath),
    },
    ...optional(answer, "visibility", number, path),
    ...optional(answer, "wind", wind, path),
    ...optional(answer, "clouds", clouds, path),
    ...optional(answer, "dt", number, path),
    ...optional(answer, "sys", sys, path),
    ...optional(answer, "name", text, path),
  };
}

function wind(value: unknown, path: string): NonNullable<Observation["wind"]> {
  const object = record(value, path);
  return { ...optional(object, "speed", number, path), ...optional(object, "deg", number, path) };
}

function clouds(value: unknown, path: string): NonNullable<Observation["clouds"]> {
  return optional(record(value, path), "all", number, path);
}

function sys(value: unknown, path: string): NonNullable<Observation["sys"]> {
  return optional(record(value, path), "country", text, path);
}

export type Reader<T> = (value: unknown, path: string) => T;

/**
 * `{ [key]: value }` for a field the schema marks optional, `{}` when absent.
 * The schema keeps a key that is present with the value `undefined` (JSON has
 * none, but a caller in this process could), so this does too.
 */
export function optional<K extends string, T>(
  object: Record<string, unknown>,
  key: K,
  read: Reader<T>,
  path: string,
): { [key in K]?: T | undefined } {
  const value = object[key];
  if (value === undefined) return key in object ? { [key]: undefined } as { [key in K]?: T } : {};
  return { [key]: read(value, at(path, key)) } as { [key in K]?: T };
}

/** A plain object, as z.object() takes it: anything but null and arrays of typeof "object". */
export function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UnexpectedShapeError(path, "an object");
  }
  return value as Record<string, unknown>;
}

/** As z.number(): NaN and the infinities are not numbers. */
export function number(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new UnexpectedShapeError(path, "a finite number");
  }
  return value;
}

export function text(value: unknown, path: string): string {
  if (typeof value !== "string") throw new UnexpectedShapeError(path, "a string");
  return value;
}

export function at(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
