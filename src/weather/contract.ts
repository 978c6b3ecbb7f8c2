/**
 * The weather Data Action's contract as the service runs it: its constants,
 * the types of the request and of the answers, and the request's validation.
 *
 * Nothing here loads zod (about 10 MB of resident memory for a service that
 * idles at a few tens). The contract is declared in zod in
 * tools/contract_schema.ts, which renders the docs tables and the Genesys
 * schemas, and the tests hold this module to it: `deno check` fails when a
 * type here differs from the one the schema infers, and a property test
 * checks that validateWeatherRequest() answers every body as the schema does.
 */

import { DEFAULT_LANGUAGE, type Language, languageOf } from "./language.ts";
import { coordinateOf, type Place, POSTAL_CODE_MAX_LENGTH, postalCodeOf } from "./place.ts";

export { type Language, LANGUAGES } from "./language.ts";

export const UNITS = ["metric", "imperial", "standard"] as const;
export type Units = typeof UNITS[number];

export const CITY_NAME_MAX_LENGTH = 100;

/**
 * A request's fields once each is checked: trimmed and case-folded, the city
 * name normalised, coordinates rounded, the language mapped to
 * OpenWeatherMap's code. Absent: not sent, `null` or blank.
 */
export interface RequestFields {
  city_name?: string | undefined;
  country_code?: string | undefined;
  postal_code?: string | undefined;
  latitude?: number | undefined;
  longitude?: number | undefined;
  units?: Units | undefined;
  lang?: Language | undefined;
}

/** What a valid request asks: one place, with the defaults filled in. */
export interface WeatherRequest {
  place: Place;
  units: Units;
  lang: Language;
}

export const DEFAULT_UNITS: Units = "metric";

/** OpenWeatherMap's condition groups, by the first digit of the condition id (see conditionGroupOf). */
export const CONDITION_GROUPS = [
  "clear",
  "clouds",
  "drizzle",
  "rain",
  "thunderstorm",
  "snow",
  "fog",
  "extreme",
] as const;
export type ConditionGroup = typeof CONDITION_GROUPS[number];

/** Why an answer is `severe`, the first that applies in this order (see severeReasonOf). */
export const SEVERE_REASONS = [
  "tornado",
  "squall",
  "thunderstorm",
  "freezing_rain",
  "heavy_rain",
  "heavy_snow",
  "volcanic_ash",
  "high_wind",
] as const;
export type SevereReason = typeof SEVERE_REASONS[number];

/** What a successful answer carries; optional fields are absent (never null) when unknown. */
export interface WeatherReport {
  temperature: number;
  feels_like?: number | undefined;
  temperature_min?: number | undefined;
  temperature_max?: number | undefined;
  temperature_unit: "celsius" | "fahrenheit" | "kelvin";
  condition: string;
  condition_code?: number | undefined;
  humidity?: number | undefined;
  pressure?: number | undefined;
  wind_speed?: number | undefined;
  wind_speed_unit: "meters per second" | "miles per hour";
  wind_direction?: number | undefined;
  cloudiness?: number | undefined;
  visibility?: number | undefined;
  city?: string | undefined;
  country?: string | undefined;
  units: Units;
  observed_at?: string | undefined;
  stale: boolean;
  condition_group?: ConditionGroup | undefined;
  severe: boolean;
  severe_reason?: SevereReason | undefined;
  temperature_rounded: number;
  summary: string;
  lang: string;
}

/**
 * What the forecast action answers: flat fields, as Architect works with flat
 * fields. "Next hours" is the next two 3-hour steps; "today" and "tomorrow"
 * are calendar days in the place's local time, and today's fields are absent
 * once no step of today remains. Temperatures are whole numbers, to speak
 * without arithmetic. Optional fields are absent (never null) when unknown.
 */
export interface ForecastReport {
  next_hours_condition: string;
  next_hours_condition_group?: ConditionGroup | undefined;
  next_hours_precipitation_probability: number;
  next_hours_rain_expected: boolean;
  next_hours_severe: boolean;
  next_hours_severe_reason?: SevereReason | undefined;
  today_temperature_min?: number | undefined;
  today_temperature_max?: number | undefined;
  today_precipitation_probability?: number | undefined;
  today_condition_group?: ConditionGroup | undefined;
  today_severe?: boolean | undefined;
  tomorrow_temperature_min?: number | undefined;
  tomorrow_temperature_max?: number | undefined;
  tomorrow_precipitation_probability?: number | undefined;
  tomorrow_condition_group?: ConditionGroup | undefined;
  tomorrow_severe?: boolean | undefined;
  summary: string;
  city?: string | undefined;
  country?: string | undefined;
  units: Units;
  temperature_unit: "celsius" | "fahrenheit" | "kelvin";
  lang: string;
  stale: boolean;
  forecast_at: string;
}

/**
 * The service's actions, by the name metrics and logs give them: each is
 * `POST /data-action/<name>`, takes the same request, and answers its own report.
 */
export const ACTIONS = ["weather", "forecast"] as const;
export type ActionName = typeof ACTIONS[number];

/**
 * Upstream trouble is an answer, not an HTTP error: the flow gets `200` with a
 * code to branch on and a short sentence it may speak to the caller.
 */
export const UPSTREAM_FAILURES = {
  CITY_NOT_FOUND: {
    message: "Sorry, I could not find weather for that place",
    when:
      "OpenWeatherMap does not know the city or postal code (404), or cannot geocode the name (400)",
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

/** A request whose values cannot be used: also a `200`, so a voice flow can see why. */
export const INVALID_INPUT = {
  message: "Names the field and what is wrong with it",
  when:
    "A field of the wrong type or with a value that cannot be used, or not exactly one kind of place",
} as const;

export type ActionErrorCode = UpstreamErrorCode | "INVALID_INPUT";
export const ACTION_ERROR_CODES: readonly ActionErrorCode[] = [
  "INVALID_INPUT",
  ...UPSTREAM_ERROR_CODES,
];

export interface ActionFailure {
  error_code: ActionErrorCode;
  error_message: string;
}

/** Every `200` answer of the weather action is one or the other. */
export type WeatherActionOutput = WeatherReport | ActionFailure;

/** Every `200` answer of the forecast action is one or the other. */
export type ForecastActionOutput = ForecastReport | ActionFailure;

/** What each request field may be told, after `Field "name" `; the schema uses the same words. */
export const REQUEST_FIELD_PROBLEMS = {
  notAString: "must be a string",
  notWellFormed: "must be well-formed Unicode text (no lone surrogates)",
  controlCharacters: "must not contain control characters",
  /** Counted once the name is normalised (normaliseCityName): what is keyed and sent on. */
  tooLong: `must be at most ${CITY_NAME_MAX_LENGTH} characters`,
  countryCode: 'must be a two-letter ISO 3166-1 country code such as "GB"',
  postalCode:
    `must be a postal code of at most ${POSTAL_CODE_MAX_LENGTH} letters and digits, with single spaces or hyphens between them`,
  latitude: "must be a number from -90 to 90",
  longitude: "must be a number from -180 to 180",
  units: `must be one of ${UNITS.map((unit) => `"${unit}"`).join(", ")}`,
} as const;

/** C0 and C1 control characters (tabs and newlines included): never part of a city's name. */
const CONTROL_CHARACTER = /\p{Cc}/u;

export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

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
 * reserved codes). The schema runs this even when the format check before it
 * failed, and ICU throws a RangeError for a malformed code such as "GBR".
 */
export function isKnownRegion(code: string): boolean {
  try {
    regionNames ??= new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
    return regionNames.of(code) !== undefined;
  } catch {
    return false;
  }
}

/** The request's fields, in the schema's order (a test checks both); every one may be left out. */
export const REQUEST_FIELDS = [
  "city_name",
  "country_code",
  "postal_code",
  "latitude",
  "longitude",
  "units",
  "lang",
] as const;

/** A request body checked against the contract: the request, or the INVALID_INPUT message. */
export type RequestValidation =
  | { readonly ok: true; readonly request: WeatherRequest }
  | { readonly ok: false; readonly message: string };

const UNIT_SET: ReadonlySet<string> = new Set(UNITS);

/**
 * Checks a request body (a parsed JSON object, so no value is `undefined`) exactly as
 * `WeatherRequestSchema.safeParse(withoutBlankFields(body))` does, without
 * zod: the same request on success (unknown fields dropped, blank or `null`
 * fields absent), and on failure the message `describeInvalidRequest()`
 * makes of the schema's first issue. Fields are checked in the schema's
 * order, each check in the schema's order, so the first problem found is the
 * one the schema reports first; then requestFrom(), which both share, picks
 * the place. A property test (tests/weather/request_validation_test.ts)
 * holds the two together.
 */
export function validateWeatherRequest(body: Readonly<Record<string, unknown>>): RequestValidation {
  const fields: RequestFields = {};

  const cityText = optionalText(body.city_name);
  if (cityText === NOT_A_STRING) return invalid("city_name", REQUEST_FIELD_PROBLEMS.notAString);
  if (cityText !== undefined) {
    // A plain name is its own normal form (and ASCII: one code unit per code point).
    let normalised = cityText;
    if (!isPlainCityName(cityText)) {
      if (!cityText.isWellFormed()) {
        return invalid("city_name", REQUEST_FIELD_PROBLEMS.notWellFormed);
      }
      if (hasControlCharacter(cityText)) {
        return invalid("city_name", REQUEST_FIELD_PROBLEMS.controlCharacters);
      }
      normalised = normaliseCityName(cityText);
    }
    // The normal form is measured (NFKC can make one character 18), in code
    // points, as zod measures strings for min and max.
    if (
      normalised.length > CITY_NAME_MAX_LENGTH &&
      codePointLength(normalised) > CITY_NAME_MAX_LENGTH
    ) {
      return invalid("city_name", REQUEST_FIELD_PROBLEMS.tooLong);
    }
    fields.city_name = normalised;
  }

  const countryText = optionalText(body.country_code);
  if (countryText === NOT_A_STRING) {
    return invalid("country_code", REQUEST_FIELD_PROBLEMS.notAString);
  }
  if (countryText !== undefined) {
    const countryCode = countryText.toUpperCase();
    if (!isCountryCode(countryCode)) {
      return invalid("country_code", REQUEST_FIELD_PROBLEMS.countryCode);
    }
    fields.country_code = countryCode;
  }

  const postalText = optionalText(body.postal_code);
  if (postalText === NOT_A_STRING) {
    return invalid("postal_code", REQUEST_FIELD_PROBLEMS.notAString);
  }
  if (postalText !== undefined) {
    fields.postal_code = postalCodeOf(postalText);
    if (fields.postal_code === undefined) {
      return invalid("postal_code", REQUEST_FIELD_PROBLEMS.postalCode);
    }
  }

  for (const [field, limit] of [["latitude", 90], ["longitude", 180]] as const) {
    const value = body[field];
    if (isBlank(value)) continue;
    fields[field] = coordinateOf(value, limit);
    if (fields[field] === undefined) return invalid(field, REQUEST_FIELD_PROBLEMS[field]);
  }

  const unitsText = optionalText(body.units);
  if (unitsText === NOT_A_STRING) return invalid("units", REQUEST_FIELD_PROBLEMS.notAString);
  if (unitsText !== undefined) {
    const units = unitsText.toLowerCase();
    if (!UNIT_SET.has(units)) return invalid("units", REQUEST_FIELD_PROBLEMS.units);
    fields.units = units as Units;
  }

  const langText = optionalText(body.lang);
  if (langText === NOT_A_STRING) return invalid("lang", REQUEST_FIELD_PROBLEMS.notAString);
  if (langText !== undefined) fields.lang = languageOf(langText);

  return requestFrom(fields);
}

/** How a request names its place, for the messages when it names none or several. */
const PLACE_FIELDS =
  '"city_name", "postal_code" with "country_code", or "latitude" and "longitude"';

/**
 * The request that checked fields ask for: exactly one kind of place (a
 * city's name, a postal code with its country, or both coordinates), and the
 * defaults. A `country_code` beside coordinates is ignored: they need none.
 */
export function requestFrom(fields: RequestFields): RequestValidation {
  const given = [
    fields.city_name !== undefined && '"city_name"',
    fields.postal_code !== undefined && '"postal_code"',
    (fields.latitude !== undefined || fields.longitude !== undefined) && "coordinates",
  ].filter((kind) => kind !== false);
  if (given.length === 0) return { ok: false, message: `Give a place: ${PLACE_FIELDS}` };
  if (given.length > 1) {
    return {
      ok: false,
      message: `Give only one place, not both ${given.join(" and ")}: ${PLACE_FIELDS}`,
    };
  }
  let place: Place;
  if (fields.city_name !== undefined) {
    place = { kind: "city", name: fields.city_name, countryCode: fields.country_code };
  } else if (fields.postal_code !== undefined) {
    if (fields.country_code === undefined) {
      return invalid("country_code", 'is required with "postal_code"');
    }
    place = {
      kind: "postal_code",
      postalCode: fields.postal_code,
      countryCode: fields.country_code,
    };
  } else {
    if (fields.latitude === undefined) return invalid("latitude", 'is required with "longitude"');
    if (fields.longitude === undefined) return invalid("longitude", 'is required with "latitude"');
    place = { kind: "coordinates", latitude: fields.latitude, longitude: fields.longitude };
  }
  return {
    ok: true,
    request: {
      place,
      units: fields.units ?? DEFAULT_UNITS,
      lang: fields.lang ?? DEFAULT_LANGUAGE,
    },
  };
}

/**
 * Characters as zod counts them: a surrogate pair is one (a lone surrogate
 * never gets here). Only called past the limit in UTF-16 units, which a name
 * within the limit in code points reaches only with characters beyond the BMP.
 */
function codePointLength(text: string): number {
  let count = text.length;
  for (let index = 0; index < text.length - 1; index++) {
    if (
      (text.charCodeAt(index) & 0xfc00) === 0xd800 &&
      (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00
    ) {
      count--;
      index++;
    }
  }
  return count;
}

function invalid(field: string, problem: string): RequestValidation {
  return { ok: false, message: `Field "${field}" ${problem}` };
}

const NOT_A_STRING = Symbol("not a string");

/**
 * Absent, `null`, or text of white space only: a field left out. Genesys
 * drops `null` inputs (since 2024-03-15), but a flow may still pass an empty
 * string variable, and that means "not given".
 */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null ||
    (typeof value === "string" && value.trim() === "");
}

/** A field's trimmed text; undefined when blank. */
function optionalText(value: unknown): string | undefined | typeof NOT_A_STRING {
  if (isBlank(value)) return undefined;
  if (typeof value !== "string") return NOT_A_STRING;
  return value.trim();
}

/**
 * True when the trimmed name is printable ASCII without two spaces in a row:
 * such a name is already in its normal form (NFKC leaves ASCII alone, and
 * there is no run of white space to collapse) and has no control character,
 * so the common name skips the Unicode work.
 */
function isPlainCityName(name: string): boolean {
  let previous = 0;
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code < 0x20 || code > 0x7e || (code === 0x20 && previous === 0x20)) return false;
    previous = code;
  }
  return true;
}

/**
 * ICU's answer per code, remembered: there are only 26 × 26 two-letter codes,
 * and only a code of that form is looked up here.
 */
const knownCountryCodes = new Map<string, boolean>();

/** As the schema: two letters A to Z (after upper-casing), and a region ICU knows. */
function isCountryCode(code: string): boolean {
  if (code.length !== 2 || !isUpperAsciiLetter(code, 0) || !isUpperAsciiLetter(code, 1)) {
    return false;
  }
  let known = knownCountryCodes.get(code);
  if (known === undefined) {
    known = isKnownRegion(code);
    knownCountryCodes.set(code, known);
  }
  return known;
}

function isUpperAsciiLetter(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 0x41 && code <= 0x5a;
}
