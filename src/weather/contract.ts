/**
 * The weather Data Action's contract, declared once.
 *
 * Request validation, the response types, the README tables and the exported
 * Genesys Data Action schemas all derive from these declarations, so the
 * service and its Genesys configuration cannot drift apart.
 */

import { z } from "zod";

export const UNITS = ["metric", "imperial", "standard"] as const;
export type Units = typeof UNITS[number];

/** Language codes OpenWeatherMap accepts for `lang` (its "Multilingual support" list). */
export const LANGUAGES = [
  "af",
  "al",
  "ar",
  "az",
  "bg",
  "ca",
  "cz",
  "da",
  "de",
  "el",
  "en",
  "es",
  "eu",
  "fa",
  "fi",
  "fr",
  "gl",
  "he",
  "hi",
  "hr",
  "hu",
  "id",
  "it",
  "ja",
  "kr",
  "la",
  "lt",
  "mk",
  "nl",
  "no",
  "pl",
  "pt",
  "pt_br",
  "ro",
  "ru",
  "se",
  "sk",
  "sl",
  "sp",
  "sr",
  "sv",
  "th",
  "tr",
  "ua",
  "uk",
  "vi",
  "zh_cn",
  "zh_tw",
  "zu",
] as const;

export const CITY_NAME_MAX_LENGTH = 100;

/** C0 and C1 control characters (tabs and newlines included): never part of a city's name. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * The one form of a city name, applied once, right after validation: both
 * the cache key and the query sent to OpenWeatherMap are made from it, so
 * two spellings share a cache entry only if they are the same query.
 * NFKC folds compatibility forms (the Kelvin sign "\u212A" is "K", full-width
 * letters are ASCII), every run of Unicode white space (no-break spaces
 * included) becomes one space, and the ends are trimmed.
 */
export function normaliseCityName(name: string): string {
  return name.normalize("NFKC").replace(/\s+/gu, " ").trim();
}

/** Made on first use: building it loads ICU's region names, about 12 ms of a cold start. */
let regionNames: Intl.DisplayNames | undefined;

/**
 * True for a region code ICU knows (the ISO 3166-1 alpha-2 list plus a few
 * reserved codes). Zod runs this even when the format check before it failed,
 * and ICU throws a RangeError for a malformed code such as "GBR". Exported for
 * the request fast path, which must apply the very same check.
 */
export function isKnownRegion(code: string): boolean {
  try {
    regionNames ??= new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
    return regionNames.of(code) !== undefined;
  } catch {
    return false;
  }
}

const stringField = (type: string) =>
  z.string({ error: (issue) => issue.input === undefined ? "is required" : `must be ${type}` });

/** The fields a flow sends; every one is a string, as Genesys input contracts prefer. */
export const WeatherRequestSchema = z.object({
  city_name: stringField("a string")
    .trim()
    .min(1, "must not be empty")
    .max(CITY_NAME_MAX_LENGTH, `must be at most ${CITY_NAME_MAX_LENGTH} characters`)
    .refine((name) => !CONTROL_CHARACTER.test(name), "must not contain control characters")
    .overwrite(normaliseCityName)
    .describe(
      'Name of the city, e.g. "London"; 1 to 100 characters, NFKC-normalised with white space collapsed and trimmed',
    ),
  country_code: stringField("a string")
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter ISO 3166-1 country code such as "GB"')
    .refine(isKnownRegion, 'must be a two-letter ISO 3166-1 country code such as "GB"')
    .optional()
    .describe('Optional ISO 3166-1 alpha-2 country code that disambiguates the city, e.g. "GB"'),
  units: stringField("a string")
    .trim()
    .toLowerCase()
    .pipe(z.enum(UNITS, { error: `must be one of ${quoteAll(UNITS)}` }))
    .optional()
    .describe('Unit system: "metric" (Celsius, m/s; the default), "imperial" or "standard"'),
  lang: stringField("a string")
    .trim()
    .toLowerCase()
    .pipe(z.enum(LANGUAGES, { error: 'must be an OpenWeatherMap language code such as "en"' }))
    .optional()
    .describe(
      'Language of "condition", an OpenWeatherMap language code such as "en" (the default)',
    ),
});

export type WeatherRequest = z.output<typeof WeatherRequestSchema>;

/** Every request field that may be left out, read off the schema. */
export const OPTIONAL_REQUEST_FIELDS: readonly string[] = Object.entries(WeatherRequestSchema.shape)
  .filter(([, field]) => field.safeParse(undefined).success)
  .map(([name]) => name);

/** An optional field's value that counts as absent: `null` or a blank string. */
export function isBlankOptionalValue(value: unknown): boolean {
  return value === null || (typeof value === "string" && value.trim() === "");
}

/**
 * Optional fields that are `null` or blank count as absent: Architect passes an
 * unset variable as an empty string, and that should mean "use the default",
 * not "400". The required `city_name` is left alone so it still fails clearly.
 */
export function withoutBlankOptionalFields(body: Record<string, unknown>): Record<string, unknown> {
  const cleaned = { ...body };
  for (const field of OPTIONAL_REQUEST_FIELDS) {
    const value = cleaned[field];
    if (isBlankOptionalValue(value)) delete cleaned[field];
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

export type WeatherReport = z.infer<typeof WeatherReportSchema>;

/**
 * Upstream trouble is an answer, not an HTTP error: the flow gets `200` with a
 * code to branch on and a short sentence it may speak to the caller.
 */
export const UPSTREAM_FAILURES = {
  CITY_NOT_FOUND: {
    message: "Sorry, I could not find weather for that city",
    when: "OpenWeatherMap does not know the place (404), or cannot geocode the name (400)",
  },
  UPSTREAM_AUTH_FAILED: {
    message: "The weather service is not available right now",
    when:
      "OpenWeatherMap rejects the API key (401 or 403), or the service is backing off after it did: check OPENWEATHER_API_KEY",
  },
  UPSTREAM_RATE_LIMITED: {
    message: "The weather service is busy, please try again later",
    when:
      "OpenWeatherMap answers 429 (or did, and the service is backing off), or OPENWEATHER_MAX_CALLS_PER_MINUTE is reached; a cached answer is served instead where there is one",
  },
  UPSTREAM_TIMEOUT: {
    message: "The weather service did not answer in time",
    when: "No complete answer within OPENWEATHER_TIMEOUT_MS, or REQUEST_DEADLINE_MS reached",
  },
  UPSTREAM_UNAVAILABLE: {
    message: "The weather service is not available right now",
    when: "5xx, a redirect, a body that is not the expected JSON or is cut short, " +
      "connection refused, DNS failure, any other network error",
  },
} as const satisfies Record<string, { message: string; when: string }>;

export type UpstreamErrorCode = keyof typeof UPSTREAM_FAILURES;
export const UPSTREAM_ERROR_CODES = Object.keys(UPSTREAM_FAILURES) as UpstreamErrorCode[];

export const ActionFailureSchema = z.object({
  error_code: z.enum(UPSTREAM_ERROR_CODES as [UpstreamErrorCode, ...UpstreamErrorCode[]])
    .describe("Why there is no weather: branch on this; absent (NOT_SET) on success"),
  error_message: z.string().describe(
    "A short sentence about the failure that may be spoken to the caller",
  ),
});

export type ActionFailure = z.infer<typeof ActionFailureSchema>;

/** Every `200` answer is one or the other. */
export type WeatherActionOutput = WeatherReport | ActionFailure;

/** One field of a contract schema, as JSON Schema describes it. */
export interface ContractField {
  name: string;
  type: string;
  enum?: string[];
  description: string;
  required: boolean;
}

/**
 * The fields of a contract schema, via zod's JSON Schema: what the README
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

function quoteAll(values: readonly string[]): string {
  return values.map((value) => `"${value}"`).join(", ");
}
