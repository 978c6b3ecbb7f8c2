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
import { number, type Observation, parseObservation, record } from "./observation.ts";

/** What either cache layer holds: an observation, or OpenWeatherMap's word that the city does not exist. */
export type CachedAnswer =
  | { readonly observation: Observation; readonly storedAt: number }
  | { readonly notFound: true; readonly storedAt: number };

/** How long a name counts as known after it last answered. */
export const KNOWN_NAME_TTL_MS = 30 * 24 * 3_600_000;

/**
 * A stored answer read back, as StoredAnswerSchema (contract_schema.ts) reads
 * it: the observation form when it holds a valid observation (a `notFound`
 * beside it is dropped), else the not-found form; only the known fields are
 * kept. Anything else throws, as does `storedAt` that is not a finite number.
 */
export function parseStoredAnswer(value: unknown): CachedAnswer {
  const stored = record(value, "");
  const storedAt = number(stored.storedAt, "storedAt");
  try {
    return { storedAt, observation: parseObservation(stored.observation, "observation") };
  } catch (error) {
    if (stored.notFound === true) return { storedAt, notFound: true };
    throw error;
  }
}

export interface SharedRead {
  readonly answer: CachedAnswer | undefined;
  readonly known: boolean;
}

export interface SharedAnswers {
  /** The stored answer and whether the name is known; undefined when the store is unavailable. */
  read(key: string): Promise<SharedRead | undefined>;
  /** Stores the answer for `ttlMs`; an observation marks the name known, a not-found unmarks it. */
  write(key: string, answer: CachedAnswer, ttlMs: number): Promise<void>;
}

export function createSharedAnswers(store: SharedStore): SharedAnswers {
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
      const sets = [{ key: answerKey(key), value: JSON.stringify(answer), ttlMs }];
      if ("observation" in answer) {
        await store.write([...sets, { key: knownKey(key), value: "1", ttlMs: KNOWN_NAME_TTL_MS }]);
      } else {
        await store.write(sets, [knownKey(key)]);
      }
    },
  };

  function decode(text: string): CachedAnswer | undefined {
    try {
      return parseStoredAnswer(JSON.parse(text));
    } catch { /* not JSON, or not a stored answer: garbage, counted below */ }
    store.reportGarbage();
    return undefined;
  }
}
