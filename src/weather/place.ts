/**
 * Where a flow asks about, in whichever form it has: a city's name (what a
 * caller says), a postal code (what a keypad gives) or coordinates (what a
 * CRM holds). Each kind is its own key space in the caches and its own
 * query to OpenWeatherMap.
 */

export type Place =
  | { readonly kind: "city"; readonly name: string; readonly countryCode?: string | undefined }
  | { readonly kind: "postal_code"; readonly postalCode: string; readonly countryCode: string }
  | { readonly kind: "coordinates"; readonly latitude: number; readonly longitude: number };

export type PlaceKind = Place["kind"];
export const PLACE_KINDS: readonly PlaceKind[] = ["city", "postal_code", "coordinates"];

/** Coordinates are rounded to this many decimals, about 1 km: neighbours share one entry. */
const COORDINATE_DECIMALS = 2;

/** The longest postal code accepted; the world's longest are 10 characters ("12345-6789"). */
export const POSTAL_CODE_MAX_LENGTH = 12;

/** Letters, digits, and single spaces or hyphens between them, as postal codes are written. */
const POSTAL_CODE = /^[A-Z0-9]+(?:[ -][A-Z0-9]+)*$/;

/**
 * A postal code in its one form, upper-cased with runs of white space made
 * one space, or undefined when it is not one (after trimming).
 */
export function postalCodeOf(text: string): string | undefined {
  const code = text.trim().replace(/\s+/g, " ").toUpperCase();
  return code.length <= POSTAL_CODE_MAX_LENGTH && POSTAL_CODE.test(code) ? code : undefined;
}

/** A decimal number as text: digits, an optional fraction, an optional sign. No exponent, no hex. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * A latitude or longitude within ±`limit` degrees, from a number or a string
 * holding one (Architect variables are often strings), rounded to
 * COORDINATE_DECIMALS; undefined when it is neither or out of range.
 */
export function coordinateOf(value: unknown, limit: 90 | 180): number | undefined {
  let degrees: number;
  if (typeof value === "number") degrees = value;
  else if (typeof value === "string" && DECIMAL.test(value.trim())) degrees = Number(value.trim());
  else return undefined;
  if (!(Math.abs(degrees) <= limit)) return undefined;
  const scale = 10 ** COORDINATE_DECIMALS;
  // `+ 0` turns -0 into 0: "-0.001" and "0.001" are one place.
  return Math.round(degrees * scale) / scale + 0;
}

/**
 * The place's part of a cache key, its kind first, so that no city can be
 * taken for a postal code. A city's name arrives in its normal form
 * (normaliseCityName), so only case is left to fold: "São Paulo" and
 * "são paulo" are one city.
 */
export function placeKey(place: Place): string[] {
  switch (place.kind) {
    case "city":
      return [place.kind, place.name.toLowerCase(), place.countryCode ?? ""];
    case "postal_code":
      return [place.kind, place.postalCode, place.countryCode];
    case "coordinates":
      return [place.kind, String(place.latitude), String(place.longitude)];
  }
}

/** OpenWeatherMap's query parameters for the place: `q`, `zip`, or `lat` and `lon`. */
export function placeParameters(place: Place): [string, string][] {
  switch (place.kind) {
    case "city":
      return [["q", place.countryCode ? `${place.name},${place.countryCode}` : place.name]];
    case "postal_code":
      return [["zip", `${place.postalCode},${place.countryCode}`]];
    case "coordinates":
      return [["lat", String(place.latitude)], ["lon", String(place.longitude)]];
  }
}
