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

export type Language = typeof LANGUAGES[number];

export const CITY_NAME_MAX_LENGTH = 100;

/** What a validated request holds; the fields are trimmed and case-folded, the city name normalised. */
export interface WeatherRequest {
  city_name: string;
  country_code?: string | undefined;
  units?: Units | undefined;
  lang?: Language | undefined;
}

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
}

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

export interface ActionFailure {
  error_code: UpstreamErrorCode;
  error_message: string;
}

/** Every `200` answer is one or the other. */
export type WeatherActionOutput = WeatherReport | ActionFailure;

/** What each request field may be told, after `Field "name" `; the schema uses the same words. */
export const REQUEST_FIELD_PROBLEMS = {
  missing: "is required",
  notAString: "must be a string",
  empty: "must not be empty",
  tooLong: `must be at most ${CITY_NAME_MAX_LENGTH} characters`,
  controlCharacters: "must not contain control characters",
  countryCode: 'must be a two-letter ISO 3166-1 country code such as "GB"',
  units: `must be one of ${UNITS.map((unit) => `"${unit}"`).join(", ")}`,
  lang: 'must be an OpenWeatherMap language code such as "en"',
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

/** The request fields that may be left out, in the schema's order (a test checks both). */
export const OPTIONAL_REQUEST_FIELDS = ["country_code", "units", "lang"] as const;

/** A request body checked against the contract: the request, or the 400's message. */
export type RequestValidation =
  | { readonly ok: true; readonly request: WeatherRequest }
  | { readonly ok: false; readonly message: string };

const UNIT_SET: ReadonlySet<string> = new Set(UNITS);
const LANGUAGE_SET: ReadonlySet<string> = new Set(LANGUAGES);

/**
 * Checks a request body (a parsed JSON object, so no value is `undefined`) exactly as
 * `WeatherRequestSchema.safeParse(withoutBlankOptionalFields(body))` does,
 * without zod: the same request on success (unknown fields dropped, blank or
 * `null` optional fields absent), and on failure the message
 * `describeInvalidRequest()` makes of the schema's first issue. Fields are
 * checked in the schema's order, each check in the schema's order, so the
 * first problem found is the one the schema reports first. A property test
 * (tests/weather/request_validation_test.ts) holds the two together.
 */
export function validateWeatherRequest(body: Readonly<Record<string, unknown>>): RequestValidation {
  const rawCityName = body.city_name;
  if (typeof rawCityName !== "string") {
    return invalid(
      "city_name",
      rawCityName === undefined
        ? REQUEST_FIELD_PROBLEMS.missing
        : REQUEST_FIELD_PROBLEMS.notAString,
    );
  }
  // Trimmed first, then measured in code points, as zod measures strings for min and max.
  const trimmedCityName = rawCityName.trim();
  if (trimmedCityName.length < 1) return invalid("city_name", REQUEST_FIELD_PROBLEMS.empty);
  if (
    trimmedCityName.length > CITY_NAME_MAX_LENGTH &&
    codePointLength(trimmedCityName) > CITY_NAME_MAX_LENGTH
  ) {
    return invalid("city_name", REQUEST_FIELD_PROBLEMS.tooLong);
  }
  let cityName = trimmedCityName;
  if (!isPlainCityName(trimmedCityName)) {
    if (hasControlCharacter(trimmedCityName)) {
      return invalid("city_name", REQUEST_FIELD_PROBLEMS.controlCharacters);
    }
    cityName = normaliseCityName(trimmedCityName);
  }

  const countryText = optionalText(body.country_code);
  if (countryText === NOT_A_STRING) {
    return invalid("country_code", REQUEST_FIELD_PROBLEMS.notAString);
  }
  const countryCode = countryText?.toUpperCase();
  if (countryCode !== undefined && !isCountryCode(countryCode)) {
    return invalid("country_code", REQUEST_FIELD_PROBLEMS.countryCode);
  }

  const units = optionalChoice(body.units, UNIT_SET);
  if (units === NOT_A_STRING) return invalid("units", REQUEST_FIELD_PROBLEMS.notAString);
  if (units === NOT_A_CHOICE) return invalid("units", REQUEST_FIELD_PROBLEMS.units);

  const lang = optionalChoice(body.lang, LANGUAGE_SET);
  if (lang === NOT_A_STRING) return invalid("lang", REQUEST_FIELD_PROBLEMS.notAString);
  if (lang === NOT_A_CHOICE) return invalid("lang", REQUEST_FIELD_PROBLEMS.lang);

  // Built in the schema's field order, as the schema builds its output.
  const request: WeatherRequest = { city_name: cityName };
  if (countryCode !== undefined) request.country_code = countryCode;
  if (units !== undefined) request.units = units as Units;
  if (lang !== undefined) request.lang = lang as Language;
  return { ok: true, request };
}

/**
 * Characters as zod counts them: a surrogate pair is one, a lone surrogate
 * one too. Only called past the limit in UTF-16 units, which a name within
 * the limit in code points reaches only with characters beyond the BMP.
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
const NOT_A_CHOICE = Symbol("not one of the choices");

/** An optional field's trimmed text; undefined when absent, `null` or blank. */
function optionalText(value: unknown): string | undefined | typeof NOT_A_STRING {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") return NOT_A_STRING;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** An optional field that names one of `choices` in any case, as the schema's trim, lower-case and enum. */
function optionalChoice(
  value: unknown,
  choices: ReadonlySet<string>,
): string | undefined | typeof NOT_A_STRING | typeof NOT_A_CHOICE {
  // The common case first: the value as the choices spell it, which trimming and lower-casing keep.
  if (typeof value === "string" && choices.has(value)) return value;
  const text = optionalText(value);
  if (text === undefined || text === NOT_A_STRING) return text;
  const choice = text.toLowerCase();
  return choices.has(choice) ? choice : NOT_A_CHOICE;
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
