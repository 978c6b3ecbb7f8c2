/**
 * Compares a presented secret with the expected one in constant time. Both
 * sides are hashed first, so neither the content nor the length of the
 * expected value shows in the timing.
 */

import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value, "utf8").digest();
}

export function secretsEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Checks both parts of a credential pair; never short-circuits on the first. */
export function credentialsEqual(
  presented: { id: string; secret: string },
  expected: { id: string; secret: string },
): boolean {
  const idMatches = secretsEqual(presented.id, expected.id);
  const secretMatches = secretsEqual(presented.secret, expected.secret);
  return idMatches && secretMatches;
}
