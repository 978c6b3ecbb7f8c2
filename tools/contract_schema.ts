/**
 * The weather Data Action's contract, declared once, in zod.
 *
 * The docs tables, the exported Genesys Data Action schemas and the tests
 * derive from these declarations. The service itself does not load this
 * module (zod costs about 10 MB of resident memory): it runs on the plain
 * types and the hand-written validator of contract.ts, which are held to the
 * declarations here by the type checks below (`deno check` fails when they
 * drift) and by a property test (tests/weather/request_validation_test.ts).
 */

import { z } from "zod";
import {
  ACTION_ERROR_CODES,
  type ActionErrorCode,
  type ActionFailure,
  CITY_NAME_MAX_LENGTH,
  CONDITION_GROUPS,
  type ForecastReport,
  hasControlCharacter,
  isBlank,
  isKnownRegion,
  normaliseCityName,
  REQUEST_FIELD_PROBLEMS,
  type RequestFields,
  requestFrom,
  SEVERE_REASONS,
  UNITS,
  type WeatherReport,
  type WeatherRequest,
} from "../src/weather/contract.ts";
import { languageOf } from "../src/weather/language.ts";
import { coordinateOf, postalCodeOf } from "../src/weather/place.ts";
import type { Forecast } from "../src/weather/forecast.ts";
import type { Observation } from "../src/weather/observation.ts";
import type { CachedAnswer } from "../src/weather/shared_answers.ts";

const stringField = () => z.string({ error: REQUEST_FIELD_PROBLEMS.notAString });

/** A latitude or longitude: a number, or a string holding one, within ±limit (coordinateOf). */
const coordinateField = (limit: 90 | 180, problem: string) =>
  z.union([z.number(), z.string()], { error: problem })
    .transform((value, context) => {
      const degrees = coordinateOf(value, limit);
      if (degrees !== undefined) return degrees;
      context.issues.push({ code: "custom", message: problem, input: value });
      return z.NEVER;
    });

/**
 * The fields a flow sends, each checked on its own; every one may be left
 * out, and requestFrom() then asks for exactly one kind of place.
 */
export const RequestFieldsSchema = z.object({
  city_name: stringField()
    .trim()
    .refine((name) => name.isWellFormed(), REQUEST_FIELD_PROBLEMS.notWellFormed)
    .refine((name) => !hasControlCharacter(name), REQUEST_FIELD_PROBLEMS.controlCharacters)
    .overwrite(normaliseCityName)
    // After normalising: the limit holds for what is keyed and sent to OpenWeatherMap.
    .max(CITY_NAME_MAX_LENGTH, REQUEST_FIELD_PROBLEMS.tooLong)
    .optional()
    .describe(
      'A city\'s name, e.g. "London": NFKC-normalised with white space collapsed and trimmed, then at most 100 characters',
    ),
  country_code: stringField()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, REQUEST_FIELD_PROBLEMS.countryCode)
    .refine(isKnownRegion, REQUEST_FIELD_PROBLEMS.countryCode)
    .optional()
    .describe(
      'ISO 3166-1 alpha-2 country code, e.g. "GB": optional with city_name, required with postal_code',
    ),
  postal_code: stringField()
    .transform((text, context) => {
      const code = postalCodeOf(text);
      if (code !== undefined) return code;
      context.issues.push({
        code: "custom",
        message: REQUEST_FIELD_PROBLEMS.postalCode,
        input: text,
      });
      return z.NEVER;
    })
    .optional()
    .describe(
      'A postal code, e.g. "SW1A 1AA" or "10001", with country_code; a string, so leading zeros stay',
    ),
  latitude: coordinateField(90, REQUEST_FIELD_PROBLEMS.latitude)
    .optional()
    .describe(
      "Latitude in degrees, -90 to 90, with longitude (the service also reads a numeric string)",
    ),
  longitude: coordinateField(180, REQUEST_FIELD_PROBLEMS.longitude)
    .optional()
    .describe(
      "Longitude in degrees, -180 to 180, with latitude (the service also reads a numeric string)",
    ),
  units: stringField()
    .trim()
    .toLowerCase()
    .pipe(z.enum(UNITS, { error: REQUEST_FIELD_PROBLEMS.units }))
    .optional()
    .describe('Unit system: "metric" (Celsius, m/s; the default), "imperial" or "standard"'),
  lang: stringField()
    .transform(languageOf)
    .optional()
    .describe(
      'Language of the answer: an OpenWeatherMap code ("en", "pt_br") or a language tag such as Architect\'s Call.Language ("en-us"); English when not recognised',
    ),
});

/** The whole request: the fields, then exactly one place (requestFrom(), as the service runs it). */
export const WeatherRequestSchema = RequestFieldsSchema.transform((fields, context) => {
  const checked = requestFrom(fields);
  if (checked.ok) return checked.request;
  context.issues.push({ code: "custom", message: checked.message, input: fields });
  return z.NEVER;
});

/**
 * Fields that are `null` or blank count as absent (isBlank): an empty string
 * variable means "not given", not an error. The schema needs this done
 * first; validateWeatherRequest() does it itself.
 */
export function withoutBlankFields(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => !isBlank(value)));
}

/** What a successful answer carries; optional fields are absent (never null) when unknown. */
export const WeatherReportSchema = z.object({
  temperature: z.number().describe("Current temperature in the requested units"),
  feels_like: z.number().optional().describe("Perceived temperature in the requested units"),
  temperature_min: z.number().optional().describe(
    "Lowest temperature currently observed in the area",
  ),
  temperature_max: z.number().optional().describe(
    "Highest temperature currently observed in the area",
  ),
  temperature_unit: z.enum(["celsius", "fahrenheit", "kelvin"]).describe(
    "Unit of every temperature field",
  ),
  condition: z.string().describe(
    'Weather condition with a capital first letter, e.g. "Light rain"',
  ),
  condition_code: z.number().int().optional().describe(
    "OpenWeatherMap weather condition id, for branching (e.g. 500-531 is rain)",
  ),
  humidity: z.number().optional().describe("Relative humidity in percent"),
  pressure: z.number().optional().describe("Atmospheric pressure at sea level in hPa"),
  wind_speed: z.number().optional().describe("Wind speed in the unit named by wind_speed_unit"),
  wind_speed_unit: z.enum(["meters per second", "miles per hour"]).describe("Unit of wind_speed"),
  wind_direction: z.number().optional().describe("Direction the wind blows from, in degrees"),
  cloudiness: z.number().optional().describe("Cloud cover in percent"),
  visibility: z.number().optional().describe("Visibility in metres"),
  city: z.string().optional().describe("Name of the place OpenWeatherMap resolved the request to"),
  country: z.string().optional().describe("ISO 3166-1 alpha-2 country code of the resolved place"),
  units: z.enum(UNITS).describe("Unit system of this answer"),
  observed_at: z.string().optional().describe("Time of the observation, ISO 8601 in UTC"),
  stale: z.boolean().describe(
    "True when OpenWeatherMap is failing and this is the last answer it gave (up to WEATHER_STALE_MAX_S old)",
  ),
  condition_group: z.enum(CONDITION_GROUPS).optional().describe(
    "The condition's group, to branch on: from condition_code, e.g. 500-531 is rain",
  ),
  severe: z.boolean().describe("True when the weather is dangerous: see severe_reason"),
  severe_reason: z.enum(SEVERE_REASONS).optional().describe(
    "Why the weather is severe, the first that applies in this order; absent when it is not",
  ),
  temperature_rounded: z.number().int().describe(
    "temperature rounded to a whole number, for text-to-speech",
  ),
  summary: z.string().describe(
    'One sentence to speak, in the answer\'s language, e.g. "London: Light rain, 12 degrees Celsius."',
  ),
  lang: z.string().describe(
    'The language of condition and summary, a BCP 47 tag such as "en" or "pt-BR"',
  ),
});

/**
 * What a successful forecast answer carries: flat fields, as Architect works
 * with flat fields. Temperatures are whole numbers (rounded), so a flow can
 * speak them without arithmetic. Optional fields are absent (never null).
 */
export const ForecastReportSchema = z.object({
  next_hours_condition: z.string().describe(
    'The next hours\' most severe condition, with a capital first letter, e.g. "Light rain"',
  ),
  next_hours_condition_group: z.enum(CONDITION_GROUPS).optional().describe(
    "Its condition group, to branch on",
  ),
  next_hours_precipitation_probability: z.number().int().min(0).max(100).describe(
    "The highest chance of precipitation in the next two 3-hour steps (about 6 hours), 0 to 100 percent",
  ),
  next_hours_rain_expected: z.boolean().describe(
    "True when that chance reaches FORECAST_RAIN_PROBABILITY_PERCENT (50 by default), or a step has rain or snow",
  ),
  next_hours_severe: z.boolean().describe("True when a step in the next hours is severe"),
  next_hours_severe_reason: z.enum(SEVERE_REASONS).optional().describe(
    "Why, the first in the weather action's order; absent when not severe",
  ),
  today_temperature_min: z.number().int().optional().describe(
    "Today's lowest temperature, a whole number in the requested units",
  ),
  today_temperature_max: z.number().int().optional().describe(
    "Today's highest temperature, a whole number in the requested units",
  ),
  today_precipitation_probability: z.number().int().min(0).max(100).optional().describe(
    "Today's highest chance of precipitation, 0 to 100 percent",
  ),
  today_condition_group: z.enum(CONDITION_GROUPS).optional().describe(
    "Today's most severe condition group",
  ),
  today_severe: z.boolean().optional().describe("True when a step of today is severe"),
  tomorrow_temperature_min: z.number().int().optional().describe(
    "Tomorrow's lowest temperature, a whole number in the requested units",
  ),
  tomorrow_temperature_max: z.number().int().optional().describe(
    "Tomorrow's highest temperature, a whole number in the requested units",
  ),
  tomorrow_precipitation_probability: z.number().int().min(0).max(100).optional().describe(
    "Tomorrow's highest chance of precipitation, 0 to 100 percent",
  ),
  tomorrow_condition_group: z.enum(CONDITION_GROUPS).optional().describe(
    "Tomorrow's most severe condition group",
  ),
  tomorrow_severe: z.boolean().optional().describe("True when a step of tomorrow is severe"),
  summary: z.string().describe(
    'One sentence to speak, in the answer\'s language, e.g. "London: Light rain, 60%; tomorrow: Overcast clouds, 8–14 degrees Celsius."',
  ),
  city: z.string().optional().describe("Name of the place OpenWeatherMap resolved the request to"),
  country: z.string().optional().describe("ISO 3166-1 alpha-2 country code of the resolved place"),
  units: z.enum(UNITS).describe("Unit system of this answer"),
  temperature_unit: z.enum(["celsius", "fahrenheit", "kelvin"]).describe(
    "Unit of every temperature field",
  ),
  lang: z.string().describe(
    'The language of the conditions and the summary, a BCP 47 tag such as "en" or "pt-BR"',
  ),
  stale: z.boolean().describe(
    "True when OpenWeatherMap is failing and this is the last forecast it gave (up to WEATHER_STALE_MAX_S old)",
  ),
  forecast_at: z.string().describe(
    "Time of the first step still ahead, ISO 8601 in UTC",
  ),
});

export const ActionFailureSchema = z.object({
  error_code: z.enum(ACTION_ERROR_CODES as [ActionErrorCode, ...ActionErrorCode[]])
    .describe("Why there is no weather: branch on this; absent (NOT_SET) on success"),
  error_message: z.string().describe(
    "A short sentence about the failure that may be spoken to the caller",
  ),
});

/**
 * Not the Data Action's contract but what the service reads from outside:
 * the part of OpenWeatherMap's answer it uses (everything but the temperature
 * and the description may be absent), as parseObservation() in
 * observation.ts checks it.
 */
export const ObservationSchema = z.object({
  weather: z.array(z.object({ id: z.number().optional(), description: z.string() })).min(1),
  main: z.object({
    temp: z.number(),
    feels_like: z.number().optional(),
    temp_min: z.number().optional(),
    temp_max: z.number().optional(),
    pressure: z.number().optional(),
    humidity: z.number().optional(),
  }),
  visibility: z.number().optional(),
  wind: z.object({ speed: z.number().optional(), deg: z.number().optional() }).optional(),
  clouds: z.object({ all: z.number().optional() }).optional(),
  dt: z.number().optional(),
  sys: z.object({ country: z.string().optional() }).optional(),
  name: z.string().optional(),
});

/**
 * Not the contract either: the part of OpenWeatherMap's 5 day / 3 hour
 * forecast the service uses, as parseForecast() in forecast.ts checks it.
 * The place's UTC offset, each step's time and its chance of precipitation
 * are required: the days and probabilities are made of them.
 */
export const ForecastSchema = z.object({
  list: z.array(z.object({
    dt: z.number(),
    main: z.object({ temp: z.number() }),
    weather: z.array(z.object({ id: z.number().optional(), description: z.string() })).min(1),
    wind: z.object({ speed: z.number().optional() }).optional(),
    pop: z.number().min(0).max(1),
    rain: z.object({ "3h": z.number().optional() }).optional(),
    snow: z.object({ "3h": z.number().optional() }).optional(),
  })).min(1),
  city: z.object({
    name: z.string().optional(),
    country: z.string().optional(),
    timezone: z.number().int().min(-14 * 3600).max(14 * 3600),
  }),
});

/** When an answer was stored: whole milliseconds since the epoch. */
const storedAt = z.int().nonnegative();

/**
 * A weather answer as the shared store holds it (`{ storedAt, observation }`),
 * read into the cache's form (`{ storedAt, value }`), as parseStoredAnswer()
 * in shared_answers.ts reads it with OBSERVATION_FORM: exactly what the
 * service writes, no other field, never both forms at once.
 */
export const StoredAnswerSchema = z.union([
  z.strictObject({ storedAt, observation: ObservationSchema }),
  z.strictObject({ storedAt, notFound: z.literal(true) }),
]).transform((stored) =>
  "observation" in stored ? { storedAt: stored.storedAt, value: stored.observation } : stored
);

/**
 * True only when A and B are the same type (optional or `| undefined`,
 * readonly and literal types all count): a mere assignability check would
 * let an optional field of one be a required one of the other.
 */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2
  ? true
  : false;

/** Compiles only when given `true`: the drift checks below. */
export function sameType<_Check extends true>(): void {}

// contract.ts declares these types by hand so the service need not load zod;
// `deno check` fails here the moment one differs from what the schema infers.
sameType<Equals<RequestFields, z.output<typeof RequestFieldsSchema>>>();
sameType<Equals<WeatherRequest, z.output<typeof WeatherRequestSchema>>>();
sameType<Equals<WeatherReport, z.infer<typeof WeatherReportSchema>>>();
sameType<Equals<ActionFailure, z.infer<typeof ActionFailureSchema>>>();
sameType<Equals<ForecastReport, z.infer<typeof ForecastReportSchema>>>();
sameType<Equals<Forecast, z.infer<typeof ForecastSchema>>>();
sameType<Equals<Observation, z.infer<typeof ObservationSchema>>>();
// The cache holds its answers read-only; otherwise the same.
sameType<Equals<CachedAnswer<Observation>, Readonly<z.output<typeof StoredAnswerSchema>>>>();

/** One field of a contract schema, as JSON Schema describes it. */
export interface ContractField {
  name: string;
  type: string;
  enum?: string[];
  description: string;
  required: boolean;
}

/**
 * The fields of a contract schema, via zod's JSON Schema: what the docs
 * tables and the exported Genesys contracts are both made from.
 */
export function contractFields(schema: z.ZodObject, io: "input" | "output"): ContractField[] {
  type Property = {
    type?: string | string[];
    anyOf?: Property[];
    enum?: string[];
    description?: string;
  };
  const json = z.toJSONSchema(schema, { io }) as {
    properties: Record<string, Property>;
    required?: string[];
  };
  // A field that takes a number or a string holding one is "number or string".
  const typeOf = (property: Property): string =>
    property.anyOf
      ? property.anyOf.map(typeOf).join(" or ")
      : [property.type ?? "string"].flat().join(" or ");
  return Object.entries(json.properties).map(([name, property]) => ({
    name,
    type: typeOf(property),
    ...(property.enum ? { enum: property.enum } : {}),
    description: property.description ?? "",
    required: json.required?.includes(name) ?? false,
  }));
}

/** Turns the first validation issue into `Field "name" must ...`, the form every 400 uses. */
export function describeInvalidRequest(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "Request body is invalid";
  const field = issue.path.map(String).join(".");
  return field === "" ? issue.message : `Field "${field}" ${issue.message}`;
}
