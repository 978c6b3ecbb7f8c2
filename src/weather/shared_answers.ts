/**
 * The weather cache's second layer: answers in the shared store, so an answer
 * fetched by any instance is served by all. Each is stored with the time it
 * was fetched, for its TTL plus the stale window, so stale-if-error works
 * across instances too. A "known" marker per place (known_places.ts), kept
 * longer, says the place has answered before (for the unknown names' share
 * of the budget).
 *
 * The store may be down, slow or hold garbage: every read here can answer
 * "nothing", and nothing here throws.
 */

import { fitsInUtf8 } from "../process/utf8.ts";
import type { SharedStore } from "../store/shared_store.ts";
import { type Forecast, parseForecast } from "./forecast.ts";
import { KNOWN_PLACE_TTL_MS, knownPlaceKey } from "./known_places.ts";
import type { Place } from "./place.ts";
import {
  number,
  type Observation,
  parseObservation,
  record,
  UnexpectedShapeError,
} from "./observation.ts";

/**
 * What either cache layer holds: OpenWeatherMap's answer (an observation, a
 * forecast), or its word that the place does not exist.
 */
export type CachedAnswer<T> =
  | { readonly value: T; readonly storedAt: number }
  | { readonly notFound: true; readonly storedAt: number };

/** How an action's answers are stored: under which field, and the check they get when read back. */
export interface StoredForm<T> {
  /** `{ storedAt, [field]: answer }`: the field says what the answer is to anyone reading the store. */
  readonly field: string;
  readonly parse: (value: unknown, path: string) => T;
}

export const OBSERVATION_FORM: StoredForm<Observation> = {
  field: "observation",
  parse: parseObservation,
};
export const FORECAST_FORM: StoredForm<Forecast> = { field: "forecast", parse: parseForecast };

/**
 * How far ahead of this instance's clock a stored answer's `storedAt` may be.
 * Instances' clocks in NTP sync differ by milliseconds; an answer from further
 * ahead would count as fresh (and be kept in memory) for as long as it claims.
 */
export const STORED_AT_SKEW_MS = 5_000;

/**
 * The most a stored answer may take, in UTF-8 bytes. The largest real one, a
 * 40-step forecast with two long conditions a step in a wordy language, takes
 * about 16 KiB (a usual one 6 KiB; an observation well under 1 KiB). A larger
 * value is not parsed, and an answer that large is not stored.
 */
export const MAX_STORED_ANSWER_BYTES = 64 * 1024;

/**
 * A stored answer read back, as StoredAnswerSchema (contract_schema.ts) reads
 * it for observations: exactly `{ storedAt, [form.field] }`, the answer
 * checked as strictly as OpenWeatherMap's own, or exactly
 * `{ storedAt, notFound: true }`, which is all the service ever writes.
 * Anything else throws: another field, both forms at once, or a `storedAt`
 * that is not a time in whole milliseconds since the epoch.
 */
export function parseStoredAnswer<T>(value: unknown, form: StoredForm<T>): CachedAnswer<T> {
  const stored = record(value, "");
  const storedAt = number(stored.storedAt, "storedAt");
  if (!Number.isSafeInteger(storedAt) || storedAt < 0) {
    throw new UnexpectedShapeError("storedAt", "a time in whole milliseconds since the epoch");
  }
  if (Object.keys(stored).length === 2) {
    if (Object.hasOwn(stored, form.field)) {
      return { storedAt, value: form.parse(stored[form.field], form.field) };
    }
    if (stored.notFound === true) return { storedAt, notFound: true };
  }
  throw new UnexpectedShapeError("", `{ storedAt, ${form.field} } or { storedAt, notFound: true }`);
}

export interface SharedRead<T> {
  readonly answer: CachedAnswer<T> | undefined;
  readonly known: boolean;
}

export interface SharedAnswers<T> {
  /**
   * The answer stored under the cache key, and whether its place is known;
   * undefined when the store is unavailable.
   */
  read(key: string, place: Place): Promise<SharedRead<T> | undefined>;
  /** Stores the answer for `ttlMs`; an answer marks the place known, a not-found unmarks it. */
  write(key: string, place: Place, answer: CachedAnswer<T>, ttlMs: number): Promise<void>;
  /**
   * Claims the key's refresh for `ttlMs`, so one instance of many makes the
   * call: false when another instance holds it, undefined when the store is
   * unavailable (every instance then refreshes what it needs on its own).
   */
  claim(key: string, ttlMs: number): Promise<boolean | undefined>;
}

export function createSharedAnswers<T>(
  store: SharedStore,
  form: StoredForm<T>,
  now: () => number,
): SharedAnswers<T> {
  const answerKey = (key: string) => `answer:${key}`;
  const knownKey = (place: Place) => `known:${knownPlaceKey(place)}`;
  return {
    claim: (key, ttlMs) => store.claim(`refresh:${key}`, ttlMs),
    async read(key, place) {
      const values = await store.getMany([answerKey(key), knownKey(place)]);
      if (values === undefined) return undefined;
      const [stored, known] = values;
      return { answer: stored === undefined ? undefined : decode(stored), known: known === "1" };
    },
    async write(key, place, answer, ttlMs) {
      if (ttlMs <= 0) return;
      const stored = JSON.stringify(
        "value" in answer ? { storedAt: answer.storedAt, [form.field]: answer.value } : answer,
      );
      // An answer too large to be read back stays in this instance's memory only,
      // and the older one stored is dropped rather than served by the others as current.
      const fits = fitsInUtf8(stored, MAX_STORED_ANSWER_BYTES);
      const sets = fits ? [{ key: answerKey(key), value: stored, ttlMs }] : [];
      if ("value" in answer) {
        await store.write(
          [...sets, { key: knownKey(place), value: "1", ttlMs: KNOWN_PLACE_TTL_MS }],
          fits ? [] : [answerKey(key)],
        );
      } else {
        await store.write(sets, [knownKey(place)]);
      }
    },
  };

  /**
   * The stored answer, held to what this service writes: whoever else can
   * write to the store (another deployment sharing it, say) gets no more say
   * than OpenWeatherMap has.
   */
  function decode(text: string): CachedAnswer<T> | undefined {
    try {
      if (fitsInUtf8(text, MAX_STORED_ANSWER_BYTES)) {
        const answer = parseStoredAnswer(JSON.parse(text), form);
        if (answer.storedAt <= now() + STORED_AT_SKEW_MS) return answer;
      }
    } catch { /* not JSON, or not a stored answer */ }
    // Too large, malformed, or from the future: garbage, and no answer.
    store.reportGarbage();
    return undefined;
  }
}
