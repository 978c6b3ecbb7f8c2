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
  type ActionFailure,
  CITY_NAME_MAX_LENGTH,
  hasControlCharacter,
  isKnownRegion,
  LANGUAGES,
  normaliseCityName,
  OPTIONAL_REQUEST_FIELDS,
  REQUEST_FIELD_PROBLEMS,
  UNITS,
  UPSTREAM_ERROR_CODES,
  type UpstreamErrorCode,
  type WeatherReport,
  type WeatherRequest,
} from "../src/weather/contract.ts";
import type { Observation } from "../src/weather/observation.ts";
import type { CachedAnswer } from "../src/weather/shared_answers.ts";

const stringField = () =>
  z.string({
    error: (issue) =>
      issue.input === undefined
        ? REQUEST_FIELD_PROBLEMS.missing
        : REQUEST_FIELD_PROBLEMS.notAString,
  });

/** The fields a flow sends; every one is a string, as Genesys input contracts prefer. */
export const WeatherRequestSchema = z.object({
  city_name: stringField()
    .trim()
    .min(1, REQUEST_FIELD_PROBLEMS.empty)
    .max(CITY_NAME_MAX_LENGTH, REQUEST_FIELD_PROBLEMS.tooLong)
    .refine((name) => !hasControlCharacter(name), REQUEST_FIELD_PROBLEMS.controlCharacters)
    .overwrite(normaliseCityName)
    .describe(
      'Name of the city, e.g. "London"; 1 to 100 characters, NFKC-normalised with white space collapsed and trimmed',
    ),
  country_code: stringField()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, REQUEST_FIELD_PROBLEMS.countryCode)
    .refine(isKnownRegion, REQUEST_FIELD_PROBLEMS.countryCode)
    .optional()
    .describe('Optional ISO 3166-1 alpha-2 country code that disambiguates the city, e.g. "GB"'),
  units: stringField()
    .trim()
    .toLowerCase()
    .pipe(z.enum(UNITS, { error: REQUEST_FIELD_PROBLEMS.units }))
    .optional()
    .describe('Unit system: "metric" (Celsius, m/s; the default), "imperial" or "standard"'),
  lang: stringField()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LANGUAGES, { error: REQUEST_FIELD_PROBLEMS.lang }))
    .optional()
    .describe(
      'Language of "condition", an OpenWeatherMap language code such as "en" (the default)',
    ),
});

/**
 * Optional fields that are `null` or blank count as absent: Architect passes an
 * unset variable as an empty string, and that should mean "use the default",
 * not "400". The required `city_name` is left alone so it still fails clearly.
 * The schema needs this done first; validateWeatherRequest() does it itself.
 */
export function withoutBlankOptionalFields(body: Record<string, unknown>): Record<string, unknown> {
  const cleaned = { ...body };
  for (const field of OPTIONAL_REQUEST_FIELDS) {
    const value = cleaned[field];
    if (value === null || (typeof value === "string" && value.trim() === "")) delete cleaned[field];
  }
  return cleaned;
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
});

export const ActionFailureSchema = z.object({
  error_code: z.enum(UPSTREAM_ERROR_CODES as [UpstreamErrorCode, ...UpstreamErrorCode[]])
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

/** An answer as the shared store holds it, as parseStoredAnswer() in shared_answers.ts checks it. */
export const StoredAnswerSchema = z.union([
  z.object({ storedAt: z.number(), observation: ObservationSchema }),
  z.object({ storedAt: z.number(), notFound: z.literal(true) }),
]);

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
sameType<Equals<WeatherRequest, z.output<typeof WeatherRequestSchema>>>();
sameType<Equals<WeatherReport, z.infer<typeof WeatherReportSchema>>>();
sameType<Equals<ActionFailure, z.infer<typeof ActionFailureSchema>>>();
sameType<Equals<Observation, z.infer<typeof ObservationSchema>>>();
// The cache holds its answers read-only; otherwise the same.
sameType<Equals<CachedAnswer, Readonly<z.infer<typeof StoredAnswerSchema>>>>();

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
  const json = z.toJSONSchema(schema, { io }) as {
    properties: Record<string, { type?: string; enum?: string[]; description?: string }>;
    required?: string[];
  };
  return Object.entries(json.properties).map(([name, property]) => ({
    name,
    type: property.type ?? "string",
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
