/**
 * parseObservation() and parseStoredAnswer() are the zod-free readers of
 * OpenWeatherMap's answer and of the shared store's copies; ObservationSchema
 * and StoredAnswerSchema (contract_schema.ts) are what they must agree with:
 * the same values accepted, and the same object returned (unknown keys
 * dropped at every level of an observation, optional keys absent when absent;
 * a stored answer is exactly what the service writes, or refused).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { ObservationSchema, StoredAnswerSchema } from "../../tools/contract_schema.ts";
import { parseObservation, UnexpectedShapeError } from "../../src/weather/observation.ts";
import { OBSERVATION_FORM, parseStoredAnswer } from "../../src/weather/shared_answers.ts";
import { LONDON } from "../support/fake_openweather.ts";

const REJECTED = Symbol("rejected");

/** The schema's answer: the parsed value, or REJECTED. */
function schemaAnswer(
  schema: typeof ObservationSchema | typeof StoredAnswerSchema,
  value: unknown,
) {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : REJECTED;
}

/** The hand-written reader's answer in the same terms; it may only fail with UnexpectedShapeError. */
function readerAnswer(read: (value: unknown) => unknown, value: unknown) {
  try {
    return read(value);
  } catch (error) {
    assert.ok(error instanceof UnexpectedShapeError, `threw ${error}`);
    return REJECTED;
  }
}

function assertObservationAgrees(value: unknown): void {
  assert.deepStrictEqual(
    readerAnswer(parseObservation, value),
    schemaAnswer(ObservationSchema, value),
  );
}

function assertStoredAnswerAgrees(value: unknown): void {
  assert.deepStrictEqual(
    readerAnswer((stored) => parseStoredAnswer(stored, OBSERVATION_FORM), value),
    schemaAnswer(StoredAnswerSchema, value),
  );
}

Deno.test("parseObservation() keeps what the service uses of an answer", async (t) => {
  await t.step("the documented answer, its other fields dropped", () => {
    assert.deepStrictEqual(parseObservation(LONDON), {
      weather: [{ id: 500, description: "light rain" }],
      main: {
        temp: 284.2,
        feels_like: 283.5,
        temp_min: 283.15,
        temp_max: 285.37,
        pressure: 1012,
        humidity: 81,
      },
      visibility: 10000,
      wind: { speed: 4.12, deg: 80 },
      clouds: { all: 90 },
      dt: 1_764_000_000,
      sys: { country: "GB" },
      name: "London",
    });
    assertObservationAgrees(LONDON);
  });
  await t.step("the least an answer may hold", () => {
    const least = { weather: [{ description: "clear sky" }], main: { temp: 20 } };
    assert.deepStrictEqual(parseObservation(least), least);
    assertObservationAgrees(least);
  });
  await t.step("rejected: no weather, no temperature, a temperature that is not finite", () => {
    for (
      const value of [
        { ...LONDON, weather: [] },
        { ...LONDON, main: { pressure: 1012 } },
        { ...LONDON, main: { temp: Number.NaN } },
        { ...LONDON, main: { temp: Infinity } },
        { ...LONDON, wind: null },
        null,
        [LONDON],
      ]
    ) {
      assert.throws(() => parseObservation(value), UnexpectedShapeError);
      assertObservationAgrees(value);
    }
  });
  await t.step(
    "an optional field present as undefined is kept as undefined, as the schema keeps it",
    () => {
      const value = { ...LONDON, wind: undefined, sys: { country: undefined } };
      const parsed = parseObservation(value);
      assert.ok("wind" in parsed && parsed.wind === undefined);
      assert.ok(parsed.sys !== undefined && "country" in parsed.sys);
      assertObservationAgrees(value);
    },
  );
  await t.step("the error names the first field found wrong, for the log", () => {
    assert.throws(
      () => parseObservation({ ...LONDON, main: { temp: "warm" } }),
      { name: "UnexpectedShapeError", message: '"main.temp" must be a finite number' },
    );
  });
});

/** A wrong value for any field: a wrong type, a number that is not finite, `undefined`. */
const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  fc.constantFrom<unknown>(null, undefined, Number.NaN, Infinity, -Infinity, "12", true, [], {}),
);

/** Fields OpenWeatherMap sends that the service does not use, or nothing like them. */
const extraFields = fc.dictionary(
  fc.oneof(
    fc.constantFrom("coord", "base", "timezone", "id", "cod", "main", "icon", "type", "__proto__"),
    fc.string({ maxLength: 6 }),
  ),
  fc.jsonValue({ maxDepth: 1 }),
  { maxKeys: 3 },
);

/**
 * Values shaped like `model`: each field good, wrong one time in `1 + goodWeight`,
 * left out half the time unless required, unknown fields beside them.
 */
function shapedLike(goodWeight: number) {
  const field = <T>(good: fc.Arbitrary<T>) =>
    fc.oneof({ weight: goodWeight, arbitrary: good }, { weight: 1, arbitrary: wrongValue });
  const shaped = (model: Record<string, fc.Arbitrary<unknown>>, requiredKeys: string[] = []) =>
    fc.tuple(fc.record(model, { requiredKeys }), extraFields)
      .map(([known, extra]) => ({ ...extra, ...known }));
  const number = field(fc.oneof(fc.double(), fc.integer(), fc.constant(-0)));
  const text = field(fc.string({ maxLength: 8 }));
  const observation = shaped({
    weather: field(
      fc.array(field(shaped({ id: number, description: text, main: text }, ["description"])), {
        maxLength: 3,
      }),
    ),
    main: field(
      shaped({
        temp: number,
        feels_like: number,
        temp_min: number,
        temp_max: number,
        pressure: number,
        humidity: number,
      }, ["temp"]),
    ),
    visibility: number,
    wind: field(shaped({ speed: number, deg: number, gust: number })),
    clouds: field(shaped({ all: number })),
    dt: number,
    sys: field(shaped({ country: text, sunrise: number })),
    name: text,
  }, goodWeight > 10 ? ["weather", "main"] : []);
  // The service writes no other field, so a stored answer has one beside it only now and then.
  const storedAnswer = fc.tuple(
    fc.record({
      storedAt: field(
        fc.oneof(fc.nat(), fc.integer(), fc.maxSafeNat().map((n) => n + 1), fc.double()),
      ),
      observation: field(observation),
      notFound: field(fc.constant(true)),
    }, { requiredKeys: goodWeight > 10 ? ["storedAt"] : [] }),
    fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraFields }),
  ).map(([known, extra]) => ({ ...extra, ...known }));
  return { observation, storedAnswer };
}

/** Nearly valid values (about half accepted), where a reader's mistakes show, and looser ones. */
const nearlyValid = shapedLike(60);
const loose = shapedLike(4);
const observationLike = fc.oneof(nearlyValid.observation, loose.observation);
const storedAnswerLike = fc.oneof(nearlyValid.storedAnswer, loose.storedAnswer);

Deno.test("parseObservation() agrees with ObservationSchema on every value", async (t) => {
  await t.step("values shaped like OpenWeatherMap's answers", () => {
    fc.assert(fc.property(observationLike, assertObservationAgrees), { numRuns: 10_000 });
  });
  await t.step("the same, as JSON.parse makes them", () => {
    fc.assert(
      fc.property(
        observationLike,
        (value) => assertObservationAgrees(JSON.parse(JSON.stringify(value))),
      ),
      { numRuns: 3_000 },
    );
  });
  await t.step("any value at all", () => {
    fc.assert(fc.property(fc.anything(), assertObservationAgrees), { numRuns: 2_000 });
  });
});

Deno.test("parseStoredAnswer() agrees with StoredAnswerSchema on every value", async (t) => {
  await t.step("what the cache writes, read back", () => {
    const observation = parseObservation(LONDON);
    const forms = [
      [{ storedAt: 1, observation }, { storedAt: 1, value: observation }],
      [{ storedAt: 2, notFound: true }, { storedAt: 2, notFound: true }],
    ] as const;
    for (const [stored, cached] of forms) {
      const read = JSON.parse(JSON.stringify(stored));
      assert.deepStrictEqual(parseStoredAnswer(read, OBSERVATION_FORM), cached);
      assertStoredAnswerAgrees(read);
    }
  });
  await t.step("refused: what the service never writes", () => {
    const observation = parseObservation(LONDON);
    for (
      const value of [
        { storedAt: 3, observation, notFound: true },
        { storedAt: 3, observation, note: "x" },
        { storedAt: 3, notFound: true, observation: undefined },
        { storedAt: 3, notFound: true, city: "x" },
        { storedAt: 3, notFound: false },
        { storedAt: -1, observation },
        { storedAt: 1.5, observation },
        { storedAt: 2 ** 53, observation },
        { storedAt: "3", observation },
        { observation },
      ]
    ) {
      assert.throws(() => parseStoredAnswer(value, OBSERVATION_FORM), UnexpectedShapeError);
      assertStoredAnswerAgrees(value);
    }
  });
  await t.step("values shaped like stored answers", () => {
    fc.assert(fc.property(storedAnswerLike, assertStoredAnswerAgrees), { numRuns: 10_000 });
  });
  await t.step("the same, as JSON.parse makes them", () => {
    fc.assert(
      fc.property(
        storedAnswerLike,
        (value) => assertStoredAnswerAgrees(JSON.parse(JSON.stringify(value))),
      ),
      { numRuns: 3_000 },
    );
  });
  await t.step("any value at all", () => {
    fc.assert(fc.property(fc.anything(), assertStoredAnswerAgrees), { numRuns: 2_000 });
  });
});
