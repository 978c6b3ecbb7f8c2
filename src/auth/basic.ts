/**
 * `Authorization: Basic` (RFC 7617) against one configured user name and
 * password, for Genesys's "Basic Auth" credential type. Both parts are
 * compared in constant time, and an address that keeps failing is refused
 * for a while before its guesses are even checked.
 */

import type { Authenticator } from "./authenticator.ts";
import { basicChallenge, tooManyFailures } from "./challenge.ts";
import type { FailureThrottle } from "./failure_throttle.ts";
import { credentialsEqual } from "./secret_compare.ts";

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
}): Authenticator {
  const expected = { id: options.user, secret: options.password };
  return {
    authenticate(request, clientAddress) {
      const header = request.headers.get("authorization");
      if (header === null) return Promise.reject(basicChallenge(options.realm));
      const retryAfter = options.throttle.retryAfterS(clientAddress);
      if (retryAfter > 0) return Promise.reject(tooManyFailures(retryAfter));
      const presented = parseBasicAuthorization(header);
      if (presented === undefined || !credentialsEqual(presented, expected)) {
        options.throttle.recordFailure(clientAddress);
        return Promise.reject(basicChallenge(options.realm, "Invalid credentials"));
      }
      return Promise.resolve({ subject: presented.id });
    },
  };
}
