/**
 * The request fast path against the schema it stands in for: on every body
 * it either steps aside (`undefined`) or answers exactly what zod answers,
 * and the bodies Genesys sends on nearly every call do take it.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CITY_NAME_MAX_LENGTH,
  LANGUAGES,
  UNITS,
  type WeatherRequest,
  WeatherRequestSchema,
  withoutBlankOptionalFields,
} from "../../src/weather/contract.ts";
import { parseCommonWeatherRequest } from "../../src/weather/request_fast_path.ts";

const RUNS = 3000;

/** What `POST /data-action/weather` makes of a parsed body: a plain object, then the schema. */
function schemaParse(body: unknown): WeatherRequest | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const parsed = WeatherRequestSchema.safeParse(
    withoutBlankOptionalFields(body as Record<string, unknown>),
  );
  return parsed.success ? parsed.data : undefined;
}

/**
 * Fails when the fast path answers anything but the schema's answer; true
 * when it answered at all, so a run can count how often it did.
 */
function assertAgreesWithSchema(body: unknown): boolean {
  const fast = parseCommonWeatherRequest(body);
  if (fast === undefined) return false;
  const expected = schemaParse(body);
  const shown = Deno.inspect(body);
  assert.ok(expected !== undefined, `fast path accepted a body the schema refuses: ${shown}`);
  assert.deepEqual(fast, expected, `fast path and schema differ on ${shown}`);
  assert.deepEqual(Object.keys(fast), Object.keys(expected), `key order differs on ${shown}`);
  return true;
}

Deno.test("parseCommonWeatherRequest() takes the fast path for the bodies Genesys sends", async (t) => {
  const cases: [string, string, WeatherRequest][] = [
    ["a one-word city", '{"city_name":"London"}', { city_name: "London" }],
    ["a city with a space", '{"city_name":"New York"}', { city_name: "New York" }],
    [
      "optional fields Architect left blank",
      '{"city_name":"Paris","country_code":"","units":"","lang":""}',
      { city_name: "Paris" },
    ],
    [
      "optional fields that are null or white space",
      '{"city_name":"Paris","country_code":null,"units":" ","lang":null}',
      { city_name: "Paris" },
    ],
    [
      "optional fields in their accepted form",
      '{"city_name":"London","country_code":"GB","units":"imperial","lang":"pt_br"}',
      { city_name: "London", country_code: "GB", units: "imperial", lang: "pt_br" },
    ],
    [
      "a lower-case country code, upper-cased",
      '{"city_name":"Springfield","country_code":"us"}',
      { city_name: "Springfield", country_code: "US" },
    ],
    [
      "Latin-1 letters and punctuation",
      `{"city_name":"Zürich","lang":"de"}`,
      { city_name: "Zürich", lang: "de" },
    ],
    [
      "fields in another order, unknown fields left out",
      '{"lang":"en","flow":"IVR","city_name":"St. John\'s","units":"metric","__proto__":{}}',
      { city_name: "St. John's", units: "metric", lang: "en" },
    ],
    [
      "a name of exactly the longest length",
      JSON.stringify({ city_name: "a".repeat(CITY_NAME_MAX_LENGTH) }),
      { city_name: "a".repeat(CITY_NAME_MAX_LENGTH) },
    ],
  ];
  for (const [name, json, expected] of cases) {
    await t.step(name, () => {
      const body = JSON.parse(json);
      assert.deepEqual(parseCommonWeatherRequest(body), expected);
      assert.deepEqual(schemaParse(body), expected);
    });
  }
});

Deno.test("parseCommonWeatherRequest() leaves to the schema what it cannot be sure of", async (t) => {
  const cases: [string, unknown][] = [
    ["a body that is not an object", ["London"]],
    ["an object without a prototype", Object.assign(Object.create(null), { city_name: "Rome" })],
    ["a missing city name", { units: "metric" }],
    ["a city name that is not a string", { city_name: 42 }],
    ["an empty city name", { city_name: "" }],
    ["spaces around the name", { city_name: " London " }],
    ["two spaces inside the name", { city_name: "New  York" }],
    ["a no-break space", { city_name: "New\u00a0York" }],
    ["a tab", { city_name: "New\tYork" }],
    ["full-width letters", { city_name: "\uff2c\uff4f\uff4e\uff44\uff4f\uff4e" }],
    ["the Kelvin sign", { city_name: "\u212aobe" }],
    ["a combining accent", { city_name: "Zu\u0308rich" }],
    ["a name past the longest length", { city_name: "a".repeat(CITY_NAME_MAX_LENGTH + 1) }],
    ["upper-case units", { city_name: "London", units: "METRIC" }],
    ["units that lower-case into a valid one", { city_name: "London", units: "\u212aelvin" }],
    ["an upper-case language", { city_name: "London", lang: "EN" }],
    ["a language padded with spaces", { city_name: "London", lang: " en" }],
    ["a three-letter country code", { city_name: "London", country_code: "GBR" }],
    ["a country code ICU does not know", { city_name: "London", country_code: "XX" }],
    ["a dotless i that upper-cases into ASCII", { city_name: "Delhi", country_code: "\u0131n" }],
    ["an optional field present but undefined", { city_name: "London", units: undefined }],
  ];
  for (const [name, body] of cases) {
    await t.step(name, () => assert.equal(parseCommonWeatherRequest(body), undefined));
  }
});

/** Characters that each break a rule (or nearly do), for mixing into plain ones. */
const NASTY_CHARACTERS = [
  // white space: ASCII, no-break, em, ideographic, line separator, Ogham; BOM; zero-width (not \s)
  " ",
  "\u00a0",
  "\u2003",
  "\u3000",
  "\u2028",
  "\u1680",
  "\ufeff",
  "\u200b",
  // control characters, C0 and C1
  "\t",
  "\n",
  "\r",
  "\u0000",
  "\u007f",
  "\u0085",
  "\u009f",
  // folded by NFKC: Kelvin sign, full-width letters, superscript two, fi ligature, Roman numeral one
  "\u212a",
  "\uff21",
  "\uff4c",
  "\u00b2",
  "\ufb01",
  "\u2160",
  // combining accents, alone and after a letter
  "\u0301",
  "\u0308",
  "e\u0301",
  "u\u0308",
  // at and past the edges of Latin-1
  "\u00bf",
  "\u00c0",
  "\u00d7",
  "\u00e9",
  "\u00fc",
  "\u00ff",
  "\u00aa",
  "\u00a8",
  "\u0100",
  "\u0130",
  "\u0131",
  "\u017f",
  // surrogates: lone and paired
  "\ud83d",
  "\ude00",
  "\ud83d\ude00",
];

const plainCharacter = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCNYZ019'-.,()~ ");
const cityCharacter = fc.oneof(
  { arbitrary: plainCharacter, weight: 8 },
  { arbitrary: fc.constantFrom(...NASTY_CHARACTERS), weight: 2 },
  { arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), weight: 1 },
);
const join = (characters: string[]) => characters.join("");

/** Values that are not strings; `null` counts as absent for an optional field. */
const notAString = fc.oneof(
  { arbitrary: fc.constant(null), weight: 4 },
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean()), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
);

const cityName = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      "London",
      "New York",
      "Paris",
      "Zürich",
      "São Paulo",
      "Rio de Janeiro",
      " London",
      "London ",
      "New  York",
      "\uff2c\uff4f\uff4e\uff44\uff4f\uff4e",
      "\u212aobe",
      "Zu\u0308rich",
      "New\u00a0York",
      "",
      " ",
    ),
    weight: 4,
  },
  { arbitrary: fc.array(cityCharacter, { maxLength: 24 }).map(join), weight: 4 },
  {
    // Around the longest length, mostly plain, sometimes with one nasty character.
    arbitrary: fc.integer({ min: CITY_NAME_MAX_LENGTH - 5, max: CITY_NAME_MAX_LENGTH + 5 })
      .chain((length) =>
        fc.tuple(
          fc.array(fc.constantFrom<string>("a", "Z", "é", " ", "b"), {
            minLength: length,
            maxLength: length,
          }),
          fc.option(fc.tuple(fc.nat(length), fc.constantFrom(...NASTY_CHARACTERS))),
        )
      )
      .map(([characters, nasty]) => {
        if (nasty !== null) characters.splice(nasty[0], 1, nasty[1]);
        return join(characters);
      }),
    weight: 3,
  },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }), weight: 1 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 30 }), weight: 1 },
  { arbitrary: notAString, weight: 1 },
);

const caseVariants = (values: readonly string[]) =>
  values.flatMap((value) => [
    value,
    value.toUpperCase(),
    value.charAt(0).toUpperCase() + value.slice(1),
    ` ${value}`,
    `${value}\u00a0`,
  ]);

const blankString = fc.constantFrom("", " ", "  ", "\t", "\u00a0", "\u3000", "\ufeff", "\u200b");

const countryCode = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      ...caseVariants(["gb", "us", "de", "zz", "xx", "aa", "qz", "eu"]),
      "gB",
      "GBR",
      "G",
      "\u0131n",
      "\u017fe",
      "\uff27\uff22",
      "\u212ay",
      "G\u0301B",
    ),
    weight: 4,
  },
  {
    arbitrary: fc.array(fc.constantFrom(..."aAbBgGzZsSkKnN", "\u0131", "\u017f", "\u212a", " "), {
      maxLength: 3,
    }).map(join),
    weight: 2,
  },
  { arbitrary: fc.string({ maxLength: 3 }), weight: 1 },
  { arbitrary: blankString, weight: 2 },
  { arbitrary: notAString, weight: 2 },
);

const units = fc.oneof(
  { arbitrary: fc.constantFrom(...caseVariants(UNITS), "\u212aelvin", "kelvin"), weight: 4 },
  { arbitrary: fc.string({ maxLength: 9 }), weight: 1 },
  { arbitrary: blankString, weight: 2 },
  { arbitrary: notAString, weight: 2 },
);

const lang = fc.oneof(
  { arbitrary: fc.constantFrom(...LANGUAGES), weight: 3 },
  { arbitrary: fc.constantFrom(...caseVariants(LANGUAGES)), weight: 2 },
  // "\u212ar" lower-cases into "kr", "\u0130t" into "i\u0307t"
  { arbitrary: fc.constantFrom("pt-br", "xx", "\u212ar", "\u0130t", "\u017fk"), weight: 1 },
  { arbitrary: fc.string({ maxLength: 5 }), weight: 1 },
  { arbitrary: blankString, weight: 2 },
  { arbitrary: notAString, weight: 2 },
);

const extraKey = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "City_Name",
    "CITY_NAME",
    "city_name ",
    "cityName",
    "flow",
  ),
  fc.string({ maxLength: 12 }),
);

/** Values the fast path should take, so that a good share of bodies reach it. */
const commonFields = fc.record({
  city_name: fc.oneof(
    fc.constantFrom("London", "New York", "Zürich", "a".repeat(CITY_NAME_MAX_LENGTH)),
    fc.array(plainCharacter, { minLength: 1, maxLength: 30 }).map(join),
  ),
  country_code: fc.oneof(fc.constantFrom("GB", "gb", "Us", "ZZ"), blankString, fc.constant(null)),
  units: fc.oneof(fc.constantFrom(...UNITS), blankString, fc.constant(null)),
  lang: fc.oneof(fc.constantFrom(...LANGUAGES), blankString, fc.constant(null)),
}, { requiredKeys: ["city_name"] });

/** The four fields, each maybe missing, plus unknown fields, as JSON.parse or code makes them. */
const nearlyCommonBody = fc.tuple(
  fc.oneof(
    fc.record({ city_name: cityName, country_code: countryCode, units, lang }, {
      requiredKeys: [],
    }),
    commonFields,
  ),
  fc.array(fc.tuple(extraKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
  fc.boolean(),
  fc.boolean(),
).map(([fields, extras, extrasFirst, throughJson]) => {
  const entries = extrasFirst
    ? [...extras, ...Object.entries(fields)]
    : [...Object.entries(fields), ...extras];
  // Object.fromEntries makes "__proto__" an own key, as JSON.parse does.
  const body = Object.fromEntries(entries);
  return throughJson ? JSON.parse(JSON.stringify(body)) : body;
});

Deno.test("parseCommonWeatherRequest() answers what the schema answers or nothing", async (t) => {
  await t.step("bodies near the common ones, with nasty values and unknown fields", () => {
    let taken = 0;
    fc.assert(
      fc.property(nearlyCommonBody, (body) => {
        if (assertAgreesWithSchema(body)) taken++;
      }),
      { numRuns: RUNS },
    );
    // The generators must reach the fast path often, or the property proves little.
    assert.ok(taken >= RUNS / 5, `fast path taken ${taken} times in ${RUNS}`);
  });

  await t.step("any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        assertAgreesWithSchema(body);
      }),
      { numRuns: RUNS },
    );
  });

  await t.step("any JavaScript value", () => {
    fc.assert(
      fc.property(
        fc.anything({ withNullPrototype: true, withBoxedValues: true, withObjectString: true }),
        (body) => {
          assertAgreesWithSchema(body);
        },
      ),
      { numRuns: RUNS },
    );
  });

  await t.step("every UTF-16 code unit in a city name, alone and between letters", () => {
    const accepted: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const character = String.fromCharCode(code);
      assertAgreesWithSchema({ city_name: `a${character}b` });
      if (assertAgreesWithSchema({ city_name: character })) accepted.push(character);
    }
    // Printable ASCII but the space, and U+00C0 to U+00FF.
    assert.equal(accepted.length, 0x7e - 0x20 + 0xff - 0xc0 + 1);
    // Every accepted character beside every other, both ways round: nothing composes.
    for (const inner of [...accepted, " "]) {
      for (const outer of accepted) {
        assertAgreesWithSchema({ city_name: `${outer}${inner}${outer}` });
      }
    }
  });
});
