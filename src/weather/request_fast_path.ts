/**
 * A fast path for the request bodies Genesys sends on nearly every call:
 * `{"city_name":"London"}`, perhaps with optional fields that Architect left
 * blank or that are already in their one accepted form. Running the zod
 * schema costs several microseconds a request; checking these bodies by hand
 * costs a fraction of that.
 *
 * The fast path never decides anything the schema would decide differently:
 * it accepts only bodies whose answer it can prove equal to the schema's, and
 * for everything else (every invalid body included) it answers `undefined`,
 * meaning "ask the schema". A property test holds it to that.
 */

import {
  CITY_NAME_MAX_LENGTH,
  isBlankOptionalValue,
  isKnownRegion,
  LANGUAGES,
  OPTIONAL_REQUEST_FIELDS,
  UNITS,
  type WeatherRequest,
  WeatherRequestSchema,
} from "./contract.ts";

/** The fields this module knows how to check, in the schema's order. */
const KNOWN_FIELDS = ["city_name", "country_code", "units", "lang"];

/**
 * A field added to the schema (or made required) would be dropped or let
 * through here, so the fast path switches itself off instead; the tests that
 * the common bodies take the fast path then fail and say so.
 */
const MATCHES_SCHEMA = sameList(Object.keys(WeatherRequestSchema.shape), KNOWN_FIELDS) &&
  sameList(OPTIONAL_REQUEST_FIELDS, KNOWN_FIELDS.slice(1));

const CANONICAL_UNITS: ReadonlySet<string> = new Set(UNITS);
const CANONICAL_LANGUAGES: ReadonlySet<string> = new Set(LANGUAGES);

/**
 * ICU's answer per upper-case two-letter code. At most 26 × 26 entries, and
 * only codes that callers sent; ICU is asked once per code, not per request.
 */
const knownRegions = new Map<string, boolean>();

/**
 * The schema's parse of a common request body, or `undefined` when this
 * path cannot be sure: then the caller runs `WeatherRequestSchema` on
 * `withoutBlankOptionalFields(body)`, which decides, and explains a refusal.
 *
 * When it answers, the result deep-equals (key order included) what that
 * schema parse returns as `data`: a new object holding `city_name` and
 * whichever optional fields are present and not blank; unknown fields are
 * left out, as zod leaves them out. It answers only for a plain object
 * (prototype `Object.prototype`, as `JSON.parse` makes) where
 * - `city_name` is 1 to CITY_NAME_MAX_LENGTH characters of printable ASCII
 *   or U+00C0–U+00FF (Latin-1 letters such as "ü", "ã"), with single
 *   spaces between words and none at either end: text that trimming, NFKC
 *   and white-space collapsing leave as it is, with no control character;
 * - `country_code`, if present, is two ASCII letters naming a region ICU
 *   knows (the schema's own check), answered upper-cased;
 * - `units` and `lang`, if present, are exactly one of UNITS or LANGUAGES;
 * - an optional field may also be `null` or blank, which counts as absent.
 */
export function parseCommonWeatherRequest(body: unknown): WeatherRequest | undefined {
  if (!MATCHES_SCHEMA) return undefined;
  if (typeof body !== "object" || body === null) return undefined;
  // Null prototypes, arrays, class instances: rare, and the schema knows best.
  if (Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const fields = body as Record<string, unknown>;

  const cityName = fields.city_name;
  if (typeof cityName !== "string" || !isCanonicalCityName(cityName)) return undefined;
  const request: WeatherRequest = { city_name: cityName };

  const countryCode = optionalField(fields, "country_code", canonicalCountryCode);
  if (countryCode === undefined) return undefined;
  if (countryCode !== ABSENT) request.country_code = countryCode;

  const units = optionalField(fields, "units", canonicalUnits);
  if (units === undefined) return undefined;
  if (units !== ABSENT) request.units = units as WeatherRequest["units"];

  const lang = optionalField(fields, "lang", canonicalLanguage);
  if (lang === undefined) return undefined;
  if (lang !== ABSENT) request.lang = lang as WeatherRequest["lang"];

  return request;
}

/** An optional field that is left out of the request (never a field's value: those are not empty). */
const ABSENT = "";

/**
 * An optional field's value as the schema would answer it, ABSENT when it is
 * missing, `null` or blank, and `undefined` when this path is not sure.
 */
function optionalField(
  fields: Record<string, unknown>,
  name: string,
  canonical: (value: string) => string | undefined,
): string | undefined {
  const value = fields[name];
  if (typeof value === "string") {
    const accepted = canonical(value);
    if (accepted !== undefined) return accepted;
  }
  if (isBlankOptionalValue(value)) return ABSENT;
  // A key that is present but `undefined` (never from JSON) comes out of zod
  // as `{ units: undefined }`; let zod answer that.
  if (value === undefined && !(name in fields)) return ABSENT;
  return undefined;
}

function canonicalUnits(value: string): string | undefined {
  return CANONICAL_UNITS.has(value) ? value : undefined;
}

function canonicalLanguage(value: string): string | undefined {
  return CANONICAL_LANGUAGES.has(value) ? value : undefined;
}

/**
 * Two ASCII letters, upper-cased, if ICU knows the region. Only ASCII: some
 * other letters upper-case into ASCII ("ı" is "I"), which the schema accepts
 * but this path leaves to it.
 */
function canonicalCountryCode(value: string): string | undefined {
  if (
    value.length !== 2 || !isAsciiLetter(value.charCodeAt(0)) || !isAsciiLetter(value.charCodeAt(1))
  ) {
    return undefined;
  }
  const code = value.toUpperCase();
  let known = knownRegions.get(code);
  if (known === undefined) {
    known = isKnownRegion(code);
    knownRegions.set(code, known);
  }
  return known ? code : undefined;
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

const SPACE = 0x20;

/**
 * True when the schema would accept the name and give it back unchanged:
 * every character is printable ASCII or U+00C0–U+00FF, and spaces are single
 * and inside. None of those characters is white space other than the space,
 * a control character, changed by NFKC, or able to combine with its
 * neighbour under NFKC (no combining marks), so trimming, NFKC and collapsing
 * white space leave such a name as it is. Each character is one UTF-16 code
 * unit, so `length` is the length the schema limits.
 */
function isCanonicalCityName(name: string): boolean {
  const length = name.length;
  if (length === 0 || length > CITY_NAME_MAX_LENGTH) return false;
  let afterSpace = true; // so a leading space is refused
  for (let index = 0; index < length; index++) {
    const code = name.charCodeAt(index);
    if (code === SPACE) {
      if (afterSpace) return false;
      afterSpace = true;
    } else if ((code > SPACE && code < 0x7f) || (code >= 0xc0 && code <= 0xff)) {
      afterSpace = false;
    } else {
      return false;
    }
  }
  return !afterSpace; // a trailing space is refused
}

function sameList(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === expected.length &&
    actual.every((value, index) => value === expected[index]);
}
