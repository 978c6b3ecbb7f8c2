/**
 * validateWeatherRequest() is the zod-free check the service runs; the zod
 * schema in contract_schema.ts is the contract it must agree with. These
 * tests hold the two together on every body, above all on the awkward ones:
 * Unicode that NFKC folds, white space JavaScript trims and white space it
 * does not, control characters, lengths around the limit, blank and `null`
 * optional fields, wrong types, and codes in any case with padding.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CITY_NAME_MAX_LENGTH,
  LANGUAGES,
  OPTIONAL_REQUEST_FIELDS,
  type RequestValidation,
  UNITS,
  validateWeatherRequest,
} from "../../src/weather/contract.ts";
import {
  describeInvalidRequest,
  WeatherRequestSchema,
  withoutBlankOptionalFields,
} from "../../tools/contract_schema.ts";
import { anyScalarValue } from "../support/arbitraries.ts";

/** What the schema answers, in the validator's terms: the reference. */
function schemaAnswer(body: Record<string, unknown>): RequestValidation {
  const parsed = WeatherRequestSchema.safeParse(withoutBlankOptionalFields(body));
  return parsed.success
    ? { ok: true, request: parsed.data }
    : { ok: false, message: describeInvalidRequest(parsed.error) };
}

function assertAgrees(body: Record<string, unknown>): void {
  assert.deepStrictEqual(validateWeatherRequest(body), schemaAnswer(body));
}

Deno.test("validateWeatherRequest() answers the common bodies as the schema does", async (t) => {
  const cases: [string, Record<string, unknown>, RequestValidation][] = [
    ["a city", { city_name: "London" }, { ok: true, request: { city_name: "London" } }],
    [
      "blank optional fields, as Architect sends unset variables",
      { city_name: "Paris", country_code: "", units: "", lang: "" },
      { ok: true, request: { city_name: "Paris" } },
    ],
    [
      "every field, padded and in the wrong case, plus an unknown one",
      { city_name: "  New  York ", country_code: " us ", units: "IMPERIAL", lang: " PT_BR", x: 1 },
      {
        ok: true,
        request: { city_name: "New York", country_code: "US", units: "imperial", lang: "pt_br" },
      },
    ],
    [
      "full-width letters, a Kelvin sign and no-break spaces folded",
      { city_name: "\u00a0\uff2c\uff4f\uff4e\uff44\uff4f\uff4e\u00a0\u00a0\u212aent\u3000" },
      { ok: true, request: { city_name: "London Kent" } },
    ],
    [
      "null optional fields",
      { city_name: "Oslo", country_code: null, units: null, lang: null },
      { ok: true, request: { city_name: "Oslo" } },
    ],
    [
      "100 characters beyond the BMP, 200 UTF-16 units: zod counts code points",
      { city_name: "\u{1F327}".repeat(CITY_NAME_MAX_LENGTH) },
      { ok: true, request: { city_name: "\u{1F327}".repeat(CITY_NAME_MAX_LENGTH) } },
    ],
    ["no city", {}, { ok: false, message: 'Field "city_name" is required' }],
    ["a null city", { city_name: null }, {
      ok: false,
      message: 'Field "city_name" must be a string',
    }],
    ["a blank city", { city_name: " \t " }, {
      ok: false,
      message: 'Field "city_name" must not be empty',
    }],
    ["a city too long", { city_name: "x".repeat(CITY_NAME_MAX_LENGTH + 1) }, {
      ok: false,
      message: `Field "city_name" must be at most ${CITY_NAME_MAX_LENGTH} characters`,
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

Deno.test("validateWeatherRequest() leaves out the optional fields the schema leaves out", () => {
  const schemaOptional = Object.entries(WeatherRequestSchema.shape)
    .filter(([, field]) => field.safeParse(undefined).success)
    .map(([name]) => name);
  assert.deepStrictEqual([...OPTIONAL_REQUEST_FIELDS], schemaOptional);
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
  "\ud800", // a lone surrogate
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

/** Bodies whose four fields come from the generators above, with unknown fields beside them. */
const awkwardBody = fc.tuple(
  fc.record({
    city_name: fieldValue(awkwardString),
    country_code: fieldValue(regionCode),
    units: fieldValue(codeVariants(UNITS)),
    lang: fieldValue(codeVariants(LANGUAGES)),
  }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
).map(([fields, extra]) => ({ ...extra, ...fields }));

/** Any JSON object, its fields named at random or after the contract's. */
const anyJsonObject = fc.dictionary(
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("city_name", "country_code", "units", "lang"),
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
