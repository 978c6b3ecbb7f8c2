/**
 * validateWeatherRequest() is the zod-free check the service runs; the zod
 * schema in contract_schema.ts is the contract it must agree with. These
 * tests hold the two together on every body, above all on the awkward ones:
 * Unicode that NFKC folds (or grows eighteenfold), white space JavaScript
 * trims and white space it does not, control characters, lone surrogates,
 * lengths around the limit before and after normalising, blank and `null`
 * optional fields, wrong types, and codes in any case with padding.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CITY_NAME_MAX_LENGTH,
  LANGUAGES,
  REQUEST_FIELDS,
  type RequestValidation,
  UNITS,
  validateWeatherRequest,
  type WeatherRequest,
} from "../../src/weather/contract.ts";
import {
  describeInvalidRequest,
  RequestFieldsSchema,
  WeatherRequestSchema,
  withoutBlankFields,
} from "../../tools/contract_schema.ts";
import { anyScalarValue } from "../support/arbitraries.ts";

/** What the schema answers, in the validator's terms: the reference. */
function schemaAnswer(body: Record<string, unknown>): RequestValidation {
  const parsed = WeatherRequestSchema.safeParse(withoutBlankFields(body));
  return parsed.success
    ? { ok: true, request: parsed.data }
    : { ok: false, message: describeInvalidRequest(parsed.error) };
}

function assertAgrees(body: Record<string, unknown>): void {
  assert.deepStrictEqual(validateWeatherRequest(body), schemaAnswer(body));
}

/** A valid request for `place`, with the defaults unless `extra` says otherwise. */
function valid(place: WeatherRequest["place"], extra: Partial<WeatherRequest> = {}) {
  return { ok: true, request: { place, units: "metric", lang: "en", ...extra } } as const;
}

/** A valid request for a city. */
function city(name: string, extra: Partial<WeatherRequest> = {}, countryCode?: string) {
  return valid({ kind: "city", name, countryCode }, extra);
}

const PLACE_FIELDS =
  '"city_name", "postal_code" with "country_code", or "latitude" and "longitude"';

Deno.test("validateWeatherRequest() answers the common bodies as the schema does", async (t) => {
  const cases: [string, Record<string, unknown>, RequestValidation][] = [
    ["a city", { city_name: "London" }, city("London")],
    [
      "blank fields, as Architect sends unset variables",
      { city_name: "Paris", country_code: "", postal_code: " ", latitude: "", units: "", lang: "" },
      city("Paris"),
    ],
    [
      "every city field, padded and in the wrong case, plus an unknown one",
      { city_name: "  New  York ", country_code: " us ", units: "IMPERIAL", lang: " PT_BR", x: 1 },
      city("New York", { units: "imperial", lang: "pt_br" }, "US"),
    ],
    [
      "Architect's Call.Language",
      { city_name: "Madrid", lang: "es-us" },
      city("Madrid", {
        lang: "es",
      }),
    ],
    ["a language OpenWeatherMap does not offer: English", {
      city_name: "Manila",
      lang: "fil-ph",
    }, city("Manila")],
    ["a language that is no tag at all: English", { city_name: "Oslo", lang: "??" }, city("Oslo")],
    [
      "full-width letters, a Kelvin sign and no-break spaces folded",
      { city_name: "\u00a0\uff2c\uff4f\uff4e\uff44\uff4f\uff4e\u00a0\u00a0\u212aent\u3000" },
      city("London Kent"),
    ],
    [
      "null fields",
      { city_name: "Oslo", country_code: null, postal_code: null, units: null, lang: null },
      city("Oslo"),
    ],
    [
      "100 characters beyond the BMP, 200 UTF-16 units: zod counts code points",
      { city_name: "\u{1F327}".repeat(CITY_NAME_MAX_LENGTH) },
      city("\u{1F327}".repeat(CITY_NAME_MAX_LENGTH)),
    ],
    [
      "a postal code from a keypad, leading zero kept",
      { postal_code: "01001", country_code: "us" },
      valid({ kind: "postal_code", postalCode: "01001", countryCode: "US" }),
    ],
    [
      "a postal code in lower case with a run of spaces",
      { postal_code: " sw1a   1aa ", country_code: "GB" },
      valid({ kind: "postal_code", postalCode: "SW1A 1AA", countryCode: "GB" }),
    ],
    [
      "coordinates as numbers, rounded to two decimals",
      { latitude: 51.50853, longitude: -0.12574 },
      valid({ kind: "coordinates", latitude: 51.51, longitude: -0.13 }),
    ],
    [
      "coordinates as strings, a country code beside them ignored",
      { latitude: " -33.8688 ", longitude: "151.2093", country_code: "AU" },
      valid({ kind: "coordinates", latitude: -33.87, longitude: 151.21 }),
    ],
    [
      "a latitude that rounds to zero is zero, not minus zero",
      { latitude: "-0.001", longitude: 0 },
      valid({ kind: "coordinates", latitude: 0, longitude: 0 }),
    ],
    ["no place", {}, { ok: false, message: `Give a place: ${PLACE_FIELDS}` }],
    ["only a country", { country_code: "GB" }, {
      ok: false,
      message: `Give a place: ${PLACE_FIELDS}`,
    }],
    ["two kinds of place", { city_name: "London", postal_code: "SW1A 1AA", country_code: "GB" }, {
      ok: false,
      message: `Give only one place, not both "city_name" and "postal_code": ${PLACE_FIELDS}`,
    }],
    ["a city and a latitude", { city_name: "London", latitude: 51 }, {
      ok: false,
      message: `Give only one place, not both "city_name" and coordinates: ${PLACE_FIELDS}`,
    }],
    ["a postal code without its country", { postal_code: "10001" }, {
      ok: false,
      message: 'Field "country_code" is required with "postal_code"',
    }],
    ["a latitude alone", { latitude: 51.5 }, {
      ok: false,
      message: 'Field "longitude" is required with "latitude"',
    }],
    ["a longitude alone", { longitude: "-0.12" }, {
      ok: false,
      message: 'Field "latitude" is required with "longitude"',
    }],
    ["a latitude out of range", { latitude: 90.5, longitude: 0 }, {
      ok: false,
      message: 'Field "latitude" must be a number from -90 to 90',
    }],
    ["a longitude that is not a number", { latitude: 1, longitude: "1e2" }, {
      ok: false,
      message: 'Field "longitude" must be a number from -180 to 180',
    }],
    ["a postal code as a number, which would lose its zeros", {
      postal_code: 1001,
      country_code: "US",
    }, {
      ok: false,
      message: 'Field "postal_code" must be a string',
    }],
    ["a postal code with punctuation", { postal_code: "10001;", country_code: "US" }, {
      ok: false,
      message:
        'Field "postal_code" must be a postal code of at most 12 letters and digits, with single spaces or hyphens between them',
    }],
    ["a number for a city", { city_name: 5 }, {
      ok: false,
      message: 'Field "city_name" must be a string',
    }],
    ["a city too long", { city_name: "x".repeat(CITY_NAME_MAX_LENGTH + 1) }, {
      ok: false,
      message: `Field "city_name" must be at most ${CITY_NAME_MAX_LENGTH} characters`,
    }],
    ["a city too long once normalised: U+FDFA is 18 characters", {
      city_name: "\ufdfa".repeat(6),
    }, {
      ok: false,
      message: `Field "city_name" must be at most ${CITY_NAME_MAX_LENGTH} characters`,
    }],
    [
      "a city too long as sent, not once normalised",
      { city_name: `New${" ".repeat(CITY_NAME_MAX_LENGTH)}York` },
      city("New York"),
    ],
    ["a lone surrogate inside a city", { city_name: "Lon\udc00don" }, {
      ok: false,
      message: 'Field "city_name" must be well-formed Unicode text (no lone surrogates)',
    }],
    ["a lone surrogate in a name also too long: the first problem", {
      city_name: "\ud800" + "x".repeat(CITY_NAME_MAX_LENGTH + 1),
    }, {
      ok: false,
      message: 'Field "city_name" must be well-formed Unicode text (no lone surrogates)',
    }],
    ["a NEL inside a city", { city_name: "Lon\u0085don" }, {
      ok: false,
      message: 'Field "city_name" must not contain control characters',
    }],
    ["an unknown region", { city_name: "Paris", country_code: "QQ" }, {
      ok: false,
      message: 'Field "country_code" must be a two-letter ISO 3166-1 country code such as "GB"',
    }],
    ["units in Kelvin", { city_name: "Paris", units: "kelvin" }, {
      ok: false,
      message: 'Field "units" must be one of "metric", "imperial", "standard"',
    }],
    ["a numeric lang", { city_name: "Paris", lang: 7 }, {
      ok: false,
      message: 'Field "lang" must be a string',
    }],
    ["the first field's problem first", { city_name: 1, units: 2 }, {
      ok: false,
      message: 'Field "city_name" must be a string',
    }],
  ];
  for (const [name, body, expected] of cases) {
    await t.step(name, () => {
      assert.deepStrictEqual(validateWeatherRequest(body), expected);
      assert.deepStrictEqual(schemaAnswer(body), expected);
    });
  }
});

Deno.test("the validator checks the schema's fields, in the schema's order", () => {
  assert.deepStrictEqual([...REQUEST_FIELDS], Object.keys(RequestFieldsSchema.shape));
});

/** Characters where Unicode and JavaScript's string functions part ways. */
const AWKWARD_CHARACTERS = [
  "\u212a", // Kelvin sign: NFKC "K", lower-cased "k"
  "\u212b", // Angstrom sign
  "\uff2c", // full-width L
  "\uff47", // full-width g
  "\u0301", // combining acute accent
  "e\u0301",
  "\u00e9",
  "\u00df", // sharp s: upper-cased "SS"
  "\u0130", // I with dot: lower-cased to two code units
  "\u0131", // dotless i
  "\ufb01", // fi ligature
  "\u01c5",
  "\u00a0", // no-break space: trimmed, and \s
  "\u2000",
  "\u2007",
  "\u200a",
  "\u202f",
  "\u205f",
  "\u3000",
  "\u1680",
  "\u2028",
  "\u2029",
  "\ufeff", // trimmed, but a format character
  "\u200b", // zero width space: neither trimmed nor a control character
  "\u0085", // NEL: a control character, not trimmed
  "\u0000",
  "\t",
  "\n",
  "\r",
  "\u000b",
  "\u000c",
  "\u007f",
  "\u009f",
  "\ud83c\udf27", // a rain cloud: two code units
  "\ud800", // a lone surrogate: not well-formed
  "\udfff", // a lone low surrogate
  "\ufdfa", // one character, 18 once NFKC-normalised
  "\u3300", // a squared katakana word: 4 once normalised
  "\u2474", // parenthesised 1: "(1)"
  " ",
  "  ",
  "x",
  "A",
  "z",
  "-",
  "'",
];

const awkwardCharacter = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...AWKWARD_CHARACTERS) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: anyScalarValue, minLength: 1, maxLength: 1 }) },
);

const padding = fc.string({
  unit: fc.constantFrom(" ", "\u00a0", "\t", "\u3000", "\u200b", "\u0085", "\ufeff"),
  maxLength: 3,
});

/** A string that is `text` give or take a character or two, around a length that matters. */
const awkwardString = fc.oneof(
  fc.string({ unit: awkwardCharacter, maxLength: 12 }),
  // Around the limit, counted before and after trimming and folding.
  fc.tuple(padding, fc.integer({ min: CITY_NAME_MAX_LENGTH - 3, max: CITY_NAME_MAX_LENGTH + 2 }))
    .chain(([pad, length]) =>
      fc.tuple(
        fc.constant(pad),
        fc.string({ unit: awkwardCharacter, minLength: length, maxLength: length }),
        fc.constant(pad),
      ).map((parts) => parts.join(""))
    ),
  fc.tuple(padding, fc.integer({ min: 95, max: 105 }), padding).map(([before, length, after]) =>
    before + "a".repeat(length) + after
  ),
  // Around the limit once normalised, whatever the length sent: NFKC makes U+FDFA 18
  // characters and "e" with U+0301 one, and runs of white space become one space.
  fc.tuple(
    padding,
    fc.integer({ min: 0, max: 6 }),
    fc.constantFrom(["a", 1], ["e\u0301", 1], ["a  ", 2], ["\u3300", 4]) as fc.Arbitrary<
      [string, number]
    >,
    fc.integer({ min: -2, max: 2 }),
    fc.constantFrom("", "", "", "\ud800", "\udc00", "\u0085"),
  ).map(([pad, wide, [unit, unitLength], delta, odd]) => {
    const count = Math.max(0, Math.floor((CITY_NAME_MAX_LENGTH - 18 * wide) / unitLength) + delta);
    return pad + "\ufdfa".repeat(wide) + odd + unit.repeat(count) + pad;
  }),
  fc.constantFrom("London", "  london  ", "S\u00e3o Paulo", "\u6771\u4eac", "", " ", "\u00a0"),
);

/** Every valid value of a coded field, in any case, padded or not, or not quite valid. */
function codeVariants(values: readonly string[]) {
  return fc.tuple(
    padding,
    fc.constantFrom(...values),
    fc.constantFrom<(code: string) => string>(
      (code) => code,
      (code) => code.toUpperCase(),
      (code) => code.toLowerCase(),
      (code) => code.charAt(0).toUpperCase() + code.slice(1),
      (code) => code.replace(/k/gi, "\u212a"), // the Kelvin sign lower-cases to "k"
      (code) => code.replace(/i/gi, "\u0130"),
      (code) => code + "x",
      (code) => code.slice(1),
    ),
    padding,
  ).map(([before, code, variant, after]) => before + variant(code) + after);
}

/** Regions ICU knows, reserved and withdrawn codes, and two-letter strings it does not know. */
const REGION_CODES = [
  "GB",
  "US",
  "DE",
  "JP",
  "BR",
  "XK",
  "EU",
  "UN",
  "EZ",
  "ZZ",
  "AA",
  "QO",
  "XX",
  "AC",
  "DG",
  "EA",
  "IC",
  "TA",
  "CP",
  "SU",
  "YU",
  "UK",
  "GBR",
  "G",
  "ss",
  "\u00df",
];
const regionCode = fc.oneof(
  codeVariants(REGION_CODES),
  fc.string({
    unit: fc.constantFrom("a", "b", "g", "s", "u", "z", "Z", "\u00df", "\uff47"),
    maxLength: 3,
  }),
);

const otherValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.array(fc.jsonValue(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue(), { maxKeys: 2 }),
  fc.constantFrom("", "  ", "\u00a0", "\u3000", "\u200b", "\u0085", "null"),
);

function fieldValue(specific: fc.Arbitrary<string>) {
  return fc.oneof(
    { weight: 4, arbitrary: specific },
    { weight: 2, arbitrary: awkwardString },
    { weight: 2, arbitrary: otherValue },
  );
}

/** Postal codes, well-formed or nearly. */
const postalCode = fc.oneof(
  fc.constantFrom("10001", "01001", "SW1A 1AA", "sw1a  1aa", "12345-6789", "K1A 0B1", "-1", "1 -2"),
  fc.string({
    unit: fc.constantFrom("1", "0", "a", "Z", " ", "-", "\u00a0", "\uff11"),
    maxLength: 14,
  }),
);

/** Coordinates as numbers or text, inside, on and past the limits, and text that is almost a number. */
const coordinate = fc.oneof(
  fc.double({ min: -200, max: 200, noNaN: true }),
  fc.constantFrom(90, -90, 180, -180, 90.004, 90.005, -0, 1e-7, 51.505, 0.125),
  fc.double({ min: -200, max: 200, noNaN: true }).map(String),
  fc.constantFrom("51.5", " 51.5 ", "+1.", ".5", "-.5", "1e2", "0x10", "Infinity", "1,5", "١", "-"),
).map((value) => value as unknown as string);

/** Bodies whose fields come from the generators above, with unknown fields beside them. */
const awkwardBody = fc.tuple(
  fc.record({
    city_name: fieldValue(awkwardString),
    country_code: fieldValue(regionCode),
    postal_code: fieldValue(postalCode),
    latitude: fieldValue(coordinate),
    longitude: fieldValue(coordinate),
    units: fieldValue(codeVariants(UNITS)),
    lang: fieldValue(fc.oneof(
      codeVariants(LANGUAGES),
      fc.constantFrom("en-us", "pt-BR", "zh-Hant-HK", "nb_NO", "iw", "x-klingon", "en--us"),
    )),
  }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
).map(([fields, extra]) => ({ ...extra, ...fields }));

/** Any JSON object, its fields named at random or after the contract's. */
const anyJsonObject = fc.dictionary(
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom(...REQUEST_FIELDS),
  ),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 6 },
);

Deno.test("validateWeatherRequest() agrees with WeatherRequestSchema on every body", async (t) => {
  await t.step("bodies made of awkward field values", () => {
    fc.assert(fc.property(awkwardBody, assertAgrees), { numRuns: 20_000 });
  });
  await t.step("any JSON object", () => {
    fc.assert(fc.property(anyJsonObject, assertAgrees), { numRuns: 5_000 });
  });
  await t.step("bodies as JSON.parse makes them, from text", () => {
    fc.assert(
      fc.property(awkwardBody, (body) => assertAgrees(JSON.parse(JSON.stringify(body)))),
      { numRuns: 3_000 },
    );
  });
});
