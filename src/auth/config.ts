/**
 * How callers authenticate: the mode, and for `jwt` which issuers are trusted
 * (an identity provider's key set, the built-in token endpoint, or both).
 */

import {
  MIN_SECRET_LENGTH,
  type VariableReader,
  type VariableSpecs,
} from "../process/variables.ts";

export const AUTH_MODES = ["jwt", "basic", "none"] as const;
export type AuthMode = typeof AUTH_MODES[number];

/**
 * Asymmetric JWS algorithms only (RFC 8725 §3.1): with a symmetric algorithm
 * the verification key is also a signing key, and "none" signs nothing.
 */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export type SigningAlgorithm = typeof ASYMMETRIC_ALGORITHMS[number];

export const AUTH_VARIABLES = {
  AUTH_MODE: {
    default: "jwt",
    meaning:
      "`jwt` (Bearer tokens), `basic`, or `none` (an open endpoint, only when asked for by name, and logged loudly)",
  },
  AUTH_REALM: {
    default: "genesys-weather-action",
    meaning: "The `realm` in `WWW-Authenticate` challenges",
  },
  AUTH_JWKS_URL: {
    meaning:
      "`jwt`: your identity provider's key set (JWKS) URL; `https` (plain `http` only for localhost)",
  },
  AUTH_ISSUER: {
    documentedDefault: "(required with `AUTH_JWKS_URL`)",
    meaning: "`jwt`: the exact `iss` of your identity provider's tokens",
  },
  AUTH_AUDIENCE: {
    documentedDefault: "`PUBLIC_URL`",
    meaning:
      "`jwt`: accepted `aud` values, comma-separated; a token needs one of them. Required with `AUTH_JWKS_URL` unless `PUBLIC_URL` is set",
  },
  AUTH_ALGORITHMS: {
    default: "RS256",
    meaning:
      "`jwt`: accepted signature algorithms, comma-separated; asymmetric only (`RS*`, `PS*`, `ES*`, `EdDSA`, `Ed25519`): `HS*` or `none` stops start-up",
  },
  AUTH_CLOCK_TOLERANCE_S: {
    default: "30",
    meaning: "`jwt`: leeway for `exp`, `nbf` and `iat`, `0`–`300` s",
  },
  AUTH_MAX_TOKEN_AGE_S: {
    default: "86400",
    meaning:
      "`jwt`: the longest lifetime a token may claim (`exp` − `iat`, or `exp` − now without `iat`), `60`–`31536000` s; longer-lived tokens are refused as `invalid_token`, so a leaked or mis-issued one cannot work for years",
  },
  AUTH_REQUIRED_SCOPE: {
    meaning:
      "`jwt`: a scope every token must carry (`scope` or `scp` claim), else `403 insufficient_scope`",
  },
  AUTH_JWKS_TIMEOUT_MS: {
    default: "3000",
    meaning: "`jwt`: time allowed for fetching the key set",
  },
  AUTH_JWKS_CACHE_MAX_AGE_S: {
    default: "600",
    meaning:
      "`jwt`: keys younger than this are used as they are; older ones are refetched in the background",
  },
  AUTH_JWKS_STALE_MAX_S: {
    default: "86400",
    meaning:
      "`jwt`: how long past `AUTH_JWKS_CACHE_MAX_AGE_S` the last good keys keep working while the key host fails",
  },
  AUTH_VERIFICATION_CACHE_TTL_S: {
    default: "60",
    meaning:
      "`jwt`: how long a verified token is remembered (never past its `exp`); `0` turns the cache off",
  },
  AUTH_VERIFICATION_CACHE_MAX_ENTRIES: {
    default: "10000",
    meaning: "`jwt`: how many verified tokens are remembered at most",
  },
  BASIC_AUTH_USER: {
    documentedDefault: "(required with `basic`)",
    meaning: "`basic`: the user name",
  },
  BASIC_AUTH_PASSWORD: {
    documentedDefault: "(required with `basic`)",
    meaning: "`basic`: the password, at least 8 characters",
    secret: true,
  },
  BASIC_AUTH_PASSWORD_FILE: {
    meaning:
      "`basic`: the password from a file under `./secrets/`, `/run/secrets/` or `$CREDENTIALS_DIRECTORY`, instead of `BASIC_AUTH_PASSWORD`",
  },
} as const satisfies VariableSpecs;

type AuthVariable = keyof typeof AUTH_VARIABLES;

/**
 * A token issuer inside this service (the built-in token endpoint), as far as
 * the JWT settings are checked against it: its own tokens must be able to pass.
 */
export interface LocalIssuer {
  /** The `iss` of its tokens. */
  readonly issuer: string;
  /** Every scope it can grant. */
  readonly scopes: readonly string[];
  readonly tokenTtlS: number;
}

/** What the composition root knows of the service's own URL and issuer. */
export interface LocalIssuerSettings {
  /** The service's external URL without a trailing slash, when set: the default audience. */
  readonly publicUrl?: string | undefined;
  /** Set when the service issues tokens itself. */
  readonly issuer?: LocalIssuer | undefined;
}

export interface ExternalKeySetConfig {
  readonly url: URL;
  readonly issuer: string;
  readonly timeoutMs: number;
  readonly cacheMaxAgeS: number;
  /** How long the last good keys stay usable while the key host fails. */
  readonly staleMaxS: number;
}

export interface BasicAuthConfig {
  readonly mode: "basic";
  readonly realm: string;
  readonly user: string;
  readonly password: string;
}

export interface JwtAuthConfig {
  readonly mode: "jwt";
  readonly realm: string;
  readonly audiences: readonly string[];
  readonly algorithms: readonly SigningAlgorithm[];
  readonly clockToleranceS: number;
  /** The longest lifetime (exp − iat) a token may have. */
  readonly maxTokenAgeS: number;
  readonly requiredScope?: string;
  readonly verificationCacheTtlS: number;
  readonly verificationCacheMaxEntries: number;
  readonly external?: ExternalKeySetConfig;
}

export type AuthConfig = { readonly mode: "none" } | BasicAuthConfig | JwtAuthConfig;

/**
 * `localIssuer` is called only in `jwt` mode: in any other mode no token is
 * issued or accepted, so the issuer's settings are not even read.
 */
export function readAuthConfig(
  vars: VariableReader<AuthVariable>,
  localIssuer: () => LocalIssuerSettings,
): AuthConfig {
  const problemsBefore = vars.problems.length;
  const mode = vars.oneOf("AUTH_MODE", AUTH_MODES);
  // An invalid mode already rejects the configuration; checking the settings
  // of a mode nobody asked for would only bury that message.
  if (vars.problems.length > problemsBefore) return { mode: "none" };
  const realm = vars.text("AUTH_REALM");
  switch (mode) {
    case "none":
      return { mode };
    case "basic":
      return {
        mode,
        realm,
        user: vars.required("BASIC_AUTH_USER", 'when AUTH_MODE is "basic"'),
        password: vars.secretOrFile("BASIC_AUTH_PASSWORD", "BASIC_AUTH_PASSWORD_FILE", {
          minLength: MIN_SECRET_LENGTH,
        }),
      };
    case "jwt":
      return readJwtConfig(vars, realm, localIssuer());
  }
}

function readJwtConfig(
  vars: VariableReader<AuthVariable>,
  realm: string,
  { publicUrl, issuer: local }: LocalIssuerSettings,
): JwtAuthConfig {
  const external = readExternalKeySet(vars);
  if (external === undefined && local === undefined) {
    vars.problem(
      'AUTH_MODE "jwt" (the default) needs keys: set AUTH_JWKS_URL (your identity provider\'s key set), ' +
        'or OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET for the built-in token endpoint, or choose AUTH_MODE "basic"',
    );
  }
  if (external !== undefined && local !== undefined && external.issuer === local.issuer) {
    vars.problem(
      "AUTH_ISSUER must differ from PUBLIC_URL: tokens are matched to their key set by issuer",
    );
  }

  const audiences = vars.list("AUTH_AUDIENCE", publicUrl ? [publicUrl] : []);
  if (external !== undefined && audiences.length === 0) {
    vars.problem(
      "AUTH_AUDIENCE is required with AUTH_JWKS_URL (the audience your identity provider issues tokens for), unless PUBLIC_URL is set",
    );
  }
  const requiredScope = vars.optionalText("AUTH_REQUIRED_SCOPE");
  if (
    requiredScope !== undefined && local !== undefined && !local.scopes.includes(requiredScope)
  ) {
    vars.problem(
      `OAUTH_SCOPES must include AUTH_REQUIRED_SCOPE "${requiredScope}", or no built-in token could pass`,
    );
  }

  const maxTokenAgeS = vars.integer("AUTH_MAX_TOKEN_AGE_S", { min: 60, max: 31_536_000 });
  if (local !== undefined && local.tokenTtlS > maxTokenAgeS) {
    vars.problem(
      `OAUTH_TOKEN_TTL_S (${local.tokenTtlS}) must not exceed AUTH_MAX_TOKEN_AGE_S (${maxTokenAgeS}), or no built-in token could pass`,
    );
  }

  return {
    mode: "jwt",
    realm,
    audiences,
    algorithms: readAlgorithms(vars),
    clockToleranceS: vars.integer("AUTH_CLOCK_TOLERANCE_S", { min: 0, max: 300 }),
    maxTokenAgeS,
    ...(requiredScope !== undefined ? { requiredScope } : {}),
    verificationCacheTtlS: vars.integer("AUTH_VERIFICATION_CACHE_TTL_S", { min: 0, max: 3600 }),
    verificationCacheMaxEntries: vars.integer("AUTH_VERIFICATION_CACHE_MAX_ENTRIES", {
      min: 1,
      max: 1_000_000,
    }),
    ...(external ? { external } : {}),
  };
}

/** The identity provider's key set, when AUTH_JWKS_URL names one. */
function readExternalKeySet(vars: VariableReader<AuthVariable>): ExternalKeySetConfig | undefined {
  const url = vars.optionalHttpUrl("AUTH_JWKS_URL", { requireHttpsUnlessLoopback: true });
  if (url === undefined) return undefined;
  return {
    url,
    issuer: vars.required(
      "AUTH_ISSUER",
      "with AUTH_JWKS_URL (the exact `iss` your identity provider puts in tokens)",
    ),
    timeoutMs: vars.integer("AUTH_JWKS_TIMEOUT_MS", { min: 1, max: 60_000 }),
    cacheMaxAgeS: vars.integer("AUTH_JWKS_CACHE_MAX_AGE_S", { min: 1, max: 86_400 }),
    staleMaxS: vars.integer("AUTH_JWKS_STALE_MAX_S", { min: 0, max: 7 * 86_400 }),
  };
}

function readAlgorithms(vars: VariableReader<AuthVariable>): SigningAlgorithm[] {
  const values = vars.list("AUTH_ALGORITHMS");
  const supported = ASYMMETRIC_ALGORITHMS as readonly string[];
  const unsupported = values.filter((value) => !supported.includes(value));
  if (unsupported.length > 0 || values.length === 0) {
    vars.problem(
      `AUTH_ALGORITHMS must list asymmetric algorithms only (${
        ASYMMETRIC_ALGORITHMS.join(", ")
      }), ` +
        `got ${unsupported.map((value) => `"${value}"`).join(", ") || "nothing"}`,
    );
    return ["RS256"];
  }
  return values as SigningAlgorithm[];
}
