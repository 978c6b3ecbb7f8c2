/**
 * `Authorization: Basic` (RFC 7617) against one configured user name and
 * password, for Genesys's "Basic Auth" credential type. Both parts are
 * compared in constant time. The right credentials are always accepted;
 * wrong ones are slowed down and, past a limit, answered 429 (see
 * failure_throttle.ts), counted per presented user name and address.
 */

import { createTtlCache } from "../process/ttl_cache.ts";
import type { Authenticator, Principal } from "./authenticator.ts";
import { basicChallenge, tooManyFailures } from "./challenge.ts";
import { delayFailure, failureKey, type FailureThrottle } from "./failure_throttle.ts";
import { credentialsChecker } from "./secret_compare.ts";

/**
 * Headers that passed recently, so Genesys's repeated identical header costs
 * a map lookup instead of two SHA-256 digests. A hit only tells its sender
 * that this exact header was accepted before, which it already knows.
 */
const ACCEPTED_HEADER_TTL_MS = 60_000;

export interface BasicCredentials {
  id: string;
  secret: string;
}

/** Decodes `Basic base64(id:secret)`; undefined when the header is not that. */
export function parseBasicAuthorization(header: string | null): BasicCredentials | undefined {
  const match = header?.trim().match(/^basic\s+([A-Za-z0-9+/]+={0,2})$/i);
  if (!match) return undefined;
  let decoded: string;
  try {
    const bytes = Uint8Array.from(atob(match[1]!), (char) => char.charCodeAt(0));
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export function createBasicAuthenticator(options: {
  realm: string;
  user: string;
  password: string;
  throttle: FailureThrottle;
  now?: () => number;
}): Authenticator {
  const matches = credentialsChecker({ id: options.user, secret: options.password });
  const accepted = createTtlCache<string, Principal>({
    max: 100,
    ttl: ACCEPTED_HEADER_TTL_MS,
    now: options.now ?? (() => performance.now()),
  });
  async function refuse(key: string): Promise<never> {
    const answer = options.throttle.recordFailure(key);
    await delayFailure(answer);
    throw answer.retryAfterS > 0
      ? tooManyFailures(answer.retryAfterS)
      : basicChallenge(options.realm, "Invalid credentials");
  }
  return {
    authenticate(request, caller) {
      const header = request.headers.get("authorization");
      if (header === null) return Promise.reject(basicChallenge(options.realm));
      const known = accepted.get(header);
      if (known !== undefined) return Promise.resolve(known);
      const presented = parseBasicAuthorization(header);
      if (presented === undefined || !matches(presented)) {
        return refuse(failureKey(presented?.id ?? "", caller.clientAddress));
      }
      const principal = { subject: presented.id };
      accepted.set(header, principal);
      return Promise.resolve(principal);
    },
  };
}
