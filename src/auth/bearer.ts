/**
 * `Authorization: Bearer <JWT>` per RFC 6750, verified by jose per RFC 8725
 * and RFC 9068: an allow-list of asymmetric algorithms, exact issuer, one of
 * the accepted audiences, `exp` required, a small clock tolerance; then,
 * since jose checks neither, an `iat` no later than now (plus the tolerance)
 * and a lifetime no longer than maxTokenAgeS.
 *
 * Tokens are matched to a verifier by their (unverified) `iss`; the verifier
 * then checks that same issuer with its own keys, so peeking is only routing.
 *
 * Genesys reuses one token for many calls, so successful verifications are
 * cached by the `Authorization` header that carried the token: bounded in
 * size, at most verificationCacheTtlMs, and never past the token's own `exp`.
 * Failures are not cached.
 */

import { decodeJwt, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from "jose";
import { createTtlCache } from "../process/ttl_cache.ts";
import type { SigningAlgorithm } from "./config.ts";
import { RequestError } from "../http/errors.ts";
import type { Logger } from "../process/log.ts";
import type { Authenticator, Principal } from "./authenticator.ts";
import { insufficientScope, invalidToken, missingBearerToken } from "./challenge.ts";
import { KeySetUnavailableError } from "./remote_key_set.ts";

/**
 * The one description for a token whose origin is not established: an
 * untrusted issuer, an unknown key id and a bad signature all read the same,
 * so a caller cannot probe which issuers are trusted or which key ids exist.
 * The log keeps the difference.
 */
const NOT_VERIFIED = "Token could not be verified";

/** Real access tokens are 1–2 KB; anything much larger is an attack on the parser. */
export const MAX_TOKEN_LENGTH = 8192;

export interface TokenIssuerTrust {
  issuer: string;
  getKey: JWTVerifyGetKey;
  /** Required `typ` header, e.g. "at+jwt" for the built-in server's RFC 9068 tokens. */
  typ?: string;
}

export interface BearerAuthenticatorOptions {
  realm: string;
  trusted: readonly TokenIssuerTrust[];
  audiences: readonly string[];
  algorithms: readonly SigningAlgorithm[];
  clockToleranceS: number;
  /** The longest lifetime (exp − iat, or exp − now without iat) a token may have. */
  maxTokenAgeS: number;
  requiredScope?: string | undefined;
  verificationCacheTtlMs: number;
  verificationCacheMaxEntries: number;
  /** Milliseconds since the epoch. */
  now: () => number;
  logger: Logger;
  /** Called for every token checked: from the cache, verified, or rejected. */
  onVerification?: (outcome: TokenVerification) => void;
}

/** `hit`: from the verification cache; `miss`: verified now; `rejected`. */
export type TokenVerification = "hit" | "miss" | "rejected";

interface VerifiedToken {
  /** Handed out as is on every hit: nobody changes a Principal. */
  principal: Principal;
  scopes: ReadonlySet<string>;
  expiresAt: number;
}

export function createBearerAuthenticator(options: BearerAuthenticatorOptions): Authenticator {
  const { realm, now } = options;
  const cache = createTtlCache<string, VerifiedToken>({
    max: options.verificationCacheMaxEntries,
    ttl: Math.max(1, options.verificationCacheTtlMs),
    now,
  });

  async function verify(token: string): Promise<VerifiedToken> {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch (error) {
      throw invalidToken(realm, "Token is malformed", error);
    }
    const trust = options.trusted.find((candidate) => candidate.issuer === issuer);
    if (trust === undefined) {
      const named = typeof issuer === "string" ? `"${issuer.slice(0, 200)}"` : "missing";
      throw invalidToken(realm, NOT_VERIFIED, new Error(`Issuer ${named} is not trusted`));
    }
    try {
      const { payload } = await jwtVerify(token, trust.getKey, {
        issuer: trust.issuer,
        audience: [...options.audiences],
        algorithms: [...options.algorithms],
        clockTolerance: options.clockToleranceS,
        currentDate: new Date(now()),
        requiredClaims: ["exp"],
        ...(trust.typ ? { typ: trust.typ } : {}),
      });
      checkTimes(payload);
      return toVerifiedToken(payload);
    } catch (error) {
      throw rejectionFor(error, realm);
    }
  }

  /** What jose leaves unchecked: a future `iat`, and a lifetime nobody should issue. */
  function checkTimes(payload: JWTPayload): void {
    const nowS = now() / 1000;
    const issuedAt = typeof payload.iat === "number" ? payload.iat : undefined;
    if (issuedAt !== undefined && issuedAt > nowS + options.clockToleranceS) {
      throw invalidToken(
        realm,
        "Token is issued in the future",
        claimProblem("iat", "in the future"),
      );
    }
    const lifetimeS = payload.exp! - (issuedAt ?? nowS);
    if (lifetimeS > options.maxTokenAgeS) {
      throw invalidToken(
        realm,
        "Token lifetime is too long",
        claimProblem(
          "exp",
          `lifetime ${Math.round(lifetimeS)} s exceeds ${options.maxTokenAgeS} s`,
        ),
      );
    }
  }

  /** The token in an `Authorization` header, or the 401 its shape deserves. */
  function tokenOf(header: string | null): string {
    if (header === null || header.trim() === "") throw missingBearerToken(realm);
    const [scheme = "", token = "", ...rest] = header.trim().split(/\s+/);
    if (scheme.toLowerCase() !== "bearer") {
      throw invalidToken(realm, "Authorization scheme must be Bearer");
    }
    if (token === "" || rest.length > 0) throw invalidToken(realm, "Token is malformed");
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken(realm, "Token is too large");
    return token;
  }

  return {
    async authenticate(request) {
      const header = request.headers.get("authorization");
      // Cached by the whole header: Genesys repeats it byte for byte, so a
      // hit needs no parsing (a header is cached only once its token passed).
      let verified = header === null ? undefined : cache.get(header);
      if (verified !== undefined && verified.expiresAt > now()) {
        options.onVerification?.("hit");
      } else {
        const token = tokenOf(header);
        try {
          verified = await verify(token);
        } catch (error) {
          options.onVerification?.("rejected");
          throw error;
        }
        options.onVerification?.("miss");
        const ttl = Math.min(options.verificationCacheTtlMs, verified.expiresAt - now());
        if (ttl > 0) cache.set(header!, verified, { ttl });
      }

      if (options.requiredScope !== undefined && !verified.scopes.has(options.requiredScope)) {
        throw insufficientScope(realm, options.requiredScope);
      }
      return verified.principal;
    },
  };
}

/** `scope` is a space-separated string (RFC 9068); some providers send `scp` as an array. */
function toVerifiedToken(payload: JWTPayload): VerifiedToken {
  const scopes = new Set<string>();
  if (typeof payload.scope === "string") {
    payload.scope.split(" ").forEach((s) => s && scopes.add(s));
  }
  if (Array.isArray(payload.scp)) {
    payload.scp.forEach((s) => typeof s === "string" && scopes.add(s));
  }
  if (typeof payload.scp === "string") payload.scp.split(" ").forEach((s) => s && scopes.add(s));
  const subject = typeof payload.sub === "string"
    ? payload.sub
    : typeof payload.client_id === "string"
    ? payload.client_id
    : "unknown";
  return { principal: { subject }, scopes, expiresAt: payload.exp! * 1000 };
}

/** The detail of a refusal for the log: which claim and why, never the claims themselves. */
function claimProblem(claim: string, reason: string): Error {
  return Object.assign(new Error(`"${claim}" claim: ${reason}`), { name: "TokenClaimError" });
}

/**
 * A jose error as the log may keep it: its name, code and message, and for a
 * claim check the claim's name and jose's reason. jose's claim errors carry
 * the whole payload (subject, client, personal claims), which must not be
 * logged; their message names the claim only.
 */
function withoutClaims(error: unknown): Error {
  if (!(error instanceof Error)) return new Error("Token could not be verified");
  const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
  const detail = [code, claim && `claim "${claim}"`, reason].filter(Boolean).join(", ");
  return Object.assign(new Error(detail ? `${error.message} (${detail})` : error.message), {
    name: error.name,
  });
}

/** jose's error codes, told apart as STYLE.md asks, mapped to fixed descriptions. */
function rejectionFor(joseError: unknown, realm: string): RequestError {
  if (joseError instanceof RequestError) return joseError;
  if (joseError instanceof KeySetUnavailableError) {
    return new RequestError("AUTH_UNAVAILABLE", "Tokens cannot be verified right now", {
      "retry-after": "30",
    }, { cause: joseError });
  }
  const { code, claim } = joseError as { code?: string; claim?: string };
  const error = withoutClaims(joseError);
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return invalidToken(realm, "Token has expired", error);
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      switch (claim) {
        case "nbf":
          return invalidToken(realm, "Token is not valid yet", error);
        case "iat":
          return invalidToken(realm, "Token is issued in the future", error);
        case "iss":
          return invalidToken(realm, NOT_VERIFIED, error);
        case "aud":
          return invalidToken(realm, "Token audience is not accepted", error);
        case "exp":
          return invalidToken(realm, "Token must have an expiry", error);
        case "typ":
          return invalidToken(realm, "Token type is not accepted", error);
        default:
          return invalidToken(realm, "Token claims are invalid", error);
      }
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return invalidToken(realm, "Token algorithm is not accepted", error);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return invalidToken(realm, NOT_VERIFIED, error);
    default:
      return invalidToken(realm, "Token is malformed", error);
  }
}
