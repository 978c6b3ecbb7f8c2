/**
 * Compares a presented secret with the expected one in constant time. Both
 * sides are hashed first, so neither the content nor the length of the
 * expected value shows in the timing.
 */

import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value, "utf8").digest();
}

export interface Credentials {
  id: string;
  secret: string;
}

/**
 * A checker for one expected pair, hashed once up front. Both parts are
 * always compared; it never short-circuits on the first.
 */
export function credentialsChecker(expected: Credentials): (presented: Credentials) => boolean {
  const expectedId = digest(expected.id);
  const expectedSecret = digest(expected.secret);
  return (presented) => {
    const idMatches = timingSafeEqual(digest(presented.id), expectedId);
    const secretMatches = timingSafeEqual(digest(presented.secret), expectedSecret);
    return idMatches && secretMatches;
  };
}
