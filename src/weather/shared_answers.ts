/**
 * The weather cache's second layer: answers in the shared store, so an answer
 * fetched by any instance is served by all. Each is stored with the time it
 * was fetched, for its TTL plus the stale window, so stale-if-error works
 * across instances too. A "known" marker, kept longer, says the name has
 * answered before (for the unknown names' share of the budget).
 *
 * The store may be down, slow or hold garbage: every read here can answer
 * "nothing", and nothing here throws.
 */

import type { SharedStore } from "../store/shared_store.ts";
import { type Forecast, parseForecast } from "./forecast.ts";
import { number, type Observation, parseObservation, record } from "./observation.ts";

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

/** How long a name counts as known after it last answered. */
export const KNOWN_NAME_TTL_MS = 30 * 24 * 3_600_000;

/**
 * A stored answer read back, as StoredAnswerSchema (contract_schema.ts) reads
 * it for observations: the answer when its field holds a valid one (a
 * `notFound` beside it is dropped), else the not-found form; only the known
 * fields are kept. Anything else throws, as does `storedAt` that is not a
 * finite number.
 */
export function parseStoredAnswer<T>(value: unknown, form: StoredForm<T>): CachedAnswer<T> {
  const stored = record(value, "");
  const storedAt = number(stored.storedAt, "storedAt");
  try {
    return { storedAt, value: form.parse(stored[form.field], form.field) };
  } catch (error) {
    if (stored.notFound === true) return { storedAt, notFound: true };
    throw error;
  }
}

export interface SharedRead<T> {
  readonly answer: CachedAnswer<T> | undefined;
  readonly known: boolean;
}

export interface SharedAnswers<T> {
  /** The stored answer and whether the name is known; undefined when the store is unavailable. */
  read(key: string): Promise<SharedRead<T> | undefined>;
  /** Stores the answer for `ttlMs`; an answer marks the name known, a not-found unmarks it. */
  write(key: string, answer: CachedAnswer<T>, ttlMs: number): Promise<void>;
}

export function createSharedAnswers<T>(store: SharedStore, form: StoredForm<T>): SharedAnswers<T> {
  const answerKey = (key: string) => `answer:${key}`;
  const knownKey = (key: string) => `known:${key}`;
  return {
    async read(key) {
      const values = await store.getMany([answerKey(key), knownKey(key)]);
      if (values === undefined) return undefined;
      const [stored, known] = values;
      return { answer: stored === undefined ? undefined : decode(stored), known: known === "1" };
    },
    async write(key, answer, ttlMs) {
      if (ttlMs <= 0) return;
      const stored = "value" in answer
        ? { storedAt: answer.storedAt, [form.field]: answer.value }
        : answer;
      const sets = [{ key: answerKey(key), value: JSON.stringify(stored), ttlMs }];
      if ("value" in answer) {
        await store.write([...sets, { key: knownKey(key), value: "1", ttlMs: KNOWN_NAME_TTL_MS }]);
      } else {
        await store.write(sets, [knownKey(key)]);
      }
    },
  };

  function decode(text: string): CachedAnswer<T> | undefined {
    try {
      return parseStoredAnswer(JSON.parse(text), form);
    } catch { /* not JSON, or not a stored answer: garbage, counted below */ }
    store.reportGarbage();
    return undefined;
  }
}
