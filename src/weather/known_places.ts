/**
 * The places that have answered with weather, for the guard's "known" calls
 * (upstream_guard.ts): a place counts as known for KNOWN_PLACE_TTL_MS after
 * it last answered, in every units and language and for both actions. One
 * marker per place, not per request: asking a known city in another language
 * is not a new name, and the variants of one city (3 units × 50 languages ×
 * 2 actions) do not multiply the markers.
 *
 * This instance remembers at most `maxEntries` places, the least recently
 * answered dropped first. A place answered at least every
 * `maxEntries / unknown calls a minute` minutes (10,000 / 30: over 5 hours,
 * by default) is never dropped by new names, which can become known no faster
 * than the unknown share lets them be asked. With a shared store, each place
 * also has one `known:` marker there (shared_answers.ts).
 */

import { createTtlCache } from "../process/ttl_cache.ts";
import { type Place, placeKey } from "./place.ts";

/** How long a place counts as known after it last answered. */
export const KNOWN_PLACE_TTL_MS = 30 * 24 * 3_600_000;

/** The place's key, as the markers are kept: its kind, then the place in its one form. */
export function knownPlaceKey(place: Place): string {
  return JSON.stringify(placeKey(place));
}

export interface KnownPlaces {
  has(place: Place): boolean;
  /** The place answered: known for KNOWN_PLACE_TTL_MS from now. */
  add(place: Place): void;
  /** The place answered CITY_NOT_FOUND: no longer known. */
  forget(place: Place): void;
}

export function createKnownPlaces(options: { maxEntries: number; now: () => number }): KnownPlaces {
  const places = createTtlCache<string, true>({
    max: options.maxEntries,
    ttl: KNOWN_PLACE_TTL_MS,
    now: options.now,
  });
  return {
    has: (place) => places.has(knownPlaceKey(place)),
    add: (place) => void places.set(knownPlaceKey(place), true),
    forget: (place) => void places.delete(knownPlaceKey(place)),
  };
}
