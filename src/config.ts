/**
 * Every setting, read and validated once at start-up into a frozen object.
 * A missing or invalid value stops the process with a message that names the
 * variable and says what it expects; all problems are reported at once.
 *
 * CONFIG_VARIABLES is the one list of variables: the reader accepts no other
 * name, literal defaults live only there, and the README's configuration
 * table and the start task's `--allow-env` list are checked against it.
 */

import type { ReadVariable } from "./process/env_file.ts";
import { LOG_LEVELS, type LogLevel } from "./process/log.ts";

/**
 * Secrets are redacted from logs by value, and a value of a few characters
 * would be both guessable and impossible to redact without mangling every
 * line. OpenWeatherMap keys are 32 characters.
 */
export const MIN_SECRET_LENGTH = 8;
/** Client secrets are guessable below this length, whatever the throttle does. */
export const MIN_CLIENT_SECRET_LENGTH = 16;

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

interface VariableSpec {
  /** The value used when the variable is unset, parsed like a real one. */
  readonly default?: string;
  /** What the README shows as the default when it is not a literal. */
  readonly documentedDefault?: string;
  readonly meaning: string;
}

export const CONFIG_VARIABLES = {
  HOST: { default: "0.0.0.0", meaning: "Interface to listen on" },
  PORT: { default: "8080", meaning: "Port to listen on, `0`–`65535` (`0` picks a free one)" },
  LOG_LEVEL: { default: "info", meaning: "`debug`, `info`, `warn` or `error`" },
  OPENWEATHER_API_KEY: {
    documentedDefault: "(required)",
    meaning: "OpenWeatherMap API key, at least 8 characters. Never logged or returned",
  },
  OPENWEATHER_BASE_URL: {
    default: "https://api.openweathermap.org/data/2.5/weather",
    meaning: "The full current-weather endpoint URL, `http` or `https`, without credentials",
  },
  OPENWEATHER_TIMEOUT_MS: {
    default: "3000",
    meaning:
      "Time allowed for OpenWeatherMap's whole answer, `1`–`60000` ms; past it the action answers `UPSTREAM_TIMEOUT`",
  },
  OPENWEATHER_MAX_CALLS_PER_MINUTE: {
    default: "60",
    meaning:
      "Upstream calls allowed in any 60 s (the free plan's limit); past it, stale answers or `UPSTREAM_RATE_LIMITED` without calling",
  },
  OPENWEATHER_BACKOFF_S: {
    default: "60",
    meaning:
      "After OpenWeatherMap answers 429 or 401, no calls for this long (stale answers are served meanwhile)",
  },
  WEATHER_CACHE_TTL_S: {
    default: "600",
    meaning:
      "How long an answer is served from the cache (OpenWeatherMap updates about every 10 minutes)",
  },
  WEATHER_NOT_FOUND_TTL_S: {
    default: "300",
    meaning: "How long a `CITY_NOT_FOUND` answer is cached",
  },
  WEATHER_STALE_MAX_S: {
    default: "3600",
    meaning:
      "How long past its TTL an answer may still be served, marked `stale`, while OpenWeatherMap fails",
  },
  WEATHER_CACHE_MAX_ENTRIES: {
    default: "10000",
    meaning: "How many distinct requests (city, country, units, lang) the cache holds",
  },
  REQUEST_DEADLINE_MS: {
    default: "5000",
    meaning:
      "Every weather request is answered within this, `100`–`60000` ms. Keep it below the Genesys action timeout",
  },
  SHUTDOWN_GRACE_MS: {
    default: "10000",
    meaning:
      "On SIGTERM/SIGINT, how long requests in flight may take to finish before the process exits anyway (with code 1)",
  },
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
  PUBLIC_URL: {
    meaning:
      "The service's external URL, e.g. `https://weather.example.com`: `iss` and default `aud` of built-in tokens",
  },
  OAUTH_CLIENT_ID: {
    meaning: "`jwt`: turns on the built-in token endpoint `POST /oauth/token` for this client",
  },
  OAUTH_CLIENT_SECRET: {
    documentedDefault: "(required with `OAUTH_CLIENT_ID`)",
    meaning: "The client's secret, at least 16 characters",
  },
  OAUTH_SIGNING_KEY: {
    meaning:
      "The token signing key: PKCS#8 PEM or private JWK. Unset (and no file): generated at start, with a warning",
  },
  OAUTH_SIGNING_KEY_FILE: {
    meaning: "The same, from a file under `./secrets/` or `/run/secrets/`",
  },
  OAUTH_TOKEN_TTL_S: { default: "3600", meaning: "Lifetime of issued tokens, `60`–`86400` s" },
  OAUTH_SCOPES: {
    default: "weather.read",
    meaning:
      "Scopes the client may be granted, comma-separated; it gets all of them when it asks for none",
  },
  BASIC_AUTH_USER: {
    documentedDefault: "(required with `basic`)",
    meaning: "`basic`: the user name",
  },
  BASIC_AUTH_PASSWORD: {
    documentedDefault: "(required with `basic`)",
    meaning: "`basic`: the password, at least 8 characters",
  },
  GENESYS_ORG_IDS: {
    meaning:
      "Optional comma-separated Genesys organization ids; a call whose `ININ-Organization-Id` is not listed gets `403`. Defence in depth only: the header can be forged",
  },
} as const satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof CONFIG_VARIABLES;

export interface ExternalKeySetConfig {
  readonly url: URL;
  readonly issuer: string;
  readonly timeoutMs: number;
  readonly cacheMaxAgeS: number;
  /** How long the last good keys stay usable while the key host fails. */
  readonly staleMaxS: number;
}

export interface BuiltInOAuthConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  /** PKCS#8 PEM or private JWK text, when given inline. */
  readonly signingKey?: string;
  readonly signingKeyFile?: string;
  readonly tokenTtlS: number;
  /** PUBLIC_URL without a trailing slash: the `iss` of every token it issues. */
  readonly issuer: string;
  /** Scopes a client may be granted; all of them when it asks for none. */
  readonly scopes: readonly string[];
}

export type AuthConfig =
  | { readonly mode: "none" }
  | {
    readonly mode: "basic";
    readonly realm: string;
    readonly user: string;
    readonly password: string;
  }
  | {
    readonly mode: "jwt";
    readonly realm: string;
    readonly audiences: readonly string[];
    readonly algorithms: readonly SigningAlgorithm[];
    readonly clockToleranceS: number;
    readonly requiredScope?: string;
    readonly verificationCacheTtlS: number;
    readonly verificationCacheMaxEntries: number;
    readonly external?: ExternalKeySetConfig;
    readonly builtIn?: BuiltInOAuthConfig;
  };

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly openWeather: {
    readonly apiKey: string;
    readonly baseUrl: URL;
    readonly timeoutMs: number;
    readonly maxCallsPerMinute: number;
    readonly backoffS: number;
  };
  readonly weatherCache: {
    readonly ttlS: number;
    readonly notFoundTtlS: number;
    readonly staleMaxS: number;
    readonly maxEntries: number;
  };
  readonly requestDeadlineMs: number;
  readonly shutdownGraceMs: number;
  readonly auth: AuthConfig;
  /** When non-empty, only these Genesys organisations (ININ-Organization-Id) may call. */
  readonly genesysOrgIds: readonly string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
  }
}

export function loadConfig(read: ReadVariable): Config {
  const vars = new VariableReader(read);
  const config: Config = {
    host: vars.text("HOST"),
    port: vars.integer("PORT", { min: 0, max: 65535 }),
    logLevel: vars.oneOf("LOG_LEVEL", LOG_LEVELS),
    openWeather: {
      apiKey: vars.secret("OPENWEATHER_API_KEY", { minLength: MIN_SECRET_LENGTH }),
      baseUrl: vars.httpUrl("OPENWEATHER_BASE_URL"),
      timeoutMs: vars.integer("OPENWEATHER_TIMEOUT_MS", { min: 1, max: 60_000 }),
      maxCallsPerMinute: vars.integer("OPENWEATHER_MAX_CALLS_PER_MINUTE", { min: 1, max: 100_000 }),
      backoffS: vars.integer("OPENWEATHER_BACKOFF_S", { min: 0, max: 86_400 }),
    },
    weatherCache: {
      ttlS: vars.integer("WEATHER_CACHE_TTL_S", { min: 0, max: 86_400 }),
      notFoundTtlS: vars.integer("WEATHER_NOT_FOUND_TTL_S", { min: 0, max: 86_400 }),
      staleMaxS: vars.integer("WEATHER_STALE_MAX_S", { min: 0, max: 7 * 86_400 }),
      maxEntries: vars.integer("WEATHER_CACHE_MAX_ENTRIES", { min: 1, max: 1_000_000 }),
    },
    requestDeadlineMs: vars.integer("REQUEST_DEADLINE_MS", { min: 100, max: 60_000 }),
    shutdownGraceMs: vars.integer("SHUTDOWN_GRACE_MS", { min: 0, max: 600_000 }),
    auth: readAuthConfig(vars),
    genesysOrgIds: vars.list("GENESYS_ORG_IDS"),
  };
  if (vars.problems.length > 0) throw new ConfigError(vars.problems);
  return deepFreeze(config);
}

function readAuthConfig(vars: VariableReader): AuthConfig {
  const problemsBefore = vars.problems.length;
  const mode = vars.oneOf("AUTH_MODE", AUTH_MODES);
  // An invalid mode already rejects the configuration; checking the settings
  // of a mode nobody asked for would only bury that message.
  if (vars.problems.length > problemsBefore) return { mode: "none" };
  const realm = vars.text("AUTH_REALM");
  if (mode === "none") return { mode };
  if (mode === "basic") {
    return {
      mode,
      realm,
      user: vars.required("BASIC_AUTH_USER", 'when AUTH_MODE is "basic"'),
      password: vars.secret("BASIC_AUTH_PASSWORD", { minLength: MIN_SECRET_LENGTH }),
    };
  }

  const publicUrl = vars.optionalHttpUrl("PUBLIC_URL");
  const issuerOfPublicUrl = publicUrl?.href.replace(/\/+$/, "");
  const jwksUrl = vars.optionalHttpUrl("AUTH_JWKS_URL", { requireHttpsUnlessLoopback: true });
  const clientId = vars.optionalText("OAUTH_CLIENT_ID");

  if (jwksUrl === undefined && clientId === undefined) {
    vars.problem(
      'AUTH_MODE "jwt" (the default) needs keys: set AUTH_JWKS_URL (your identity provider\'s key set), ' +
        'or OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET for the built-in token endpoint, or choose AUTH_MODE "basic"',
    );
  }

  let builtIn: BuiltInOAuthConfig | undefined;
  if (clientId !== undefined) {
    const clientSecret = vars.secret("OAUTH_CLIENT_SECRET", {
      minLength: MIN_CLIENT_SECRET_LENGTH,
    });
    if (issuerOfPublicUrl === undefined) {
      vars.problem(
        "PUBLIC_URL is required with OAUTH_CLIENT_ID: it is the issuer and audience of the tokens the service issues",
      );
    }
    const signingKey = vars.optionalText("OAUTH_SIGNING_KEY");
    const signingKeyFile = vars.optionalText("OAUTH_SIGNING_KEY_FILE");
    if (signingKey !== undefined && signingKeyFile !== undefined) {
      vars.problem("Set OAUTH_SIGNING_KEY or OAUTH_SIGNING_KEY_FILE, not both");
    }
    builtIn = {
      clientId,
      clientSecret,
      ...(signingKey !== undefined ? { signingKey } : {}),
      ...(signingKeyFile !== undefined ? { signingKeyFile } : {}),
      tokenTtlS: vars.integer("OAUTH_TOKEN_TTL_S", { min: 60, max: 86_400 }),
      issuer: issuerOfPublicUrl ?? "",
      scopes: vars.list("OAUTH_SCOPES"),
    };
  } else if (vars.optionalText("OAUTH_CLIENT_SECRET") !== undefined) {
    vars.problem("OAUTH_CLIENT_SECRET is set but OAUTH_CLIENT_ID is not");
  }

  let external: ExternalKeySetConfig | undefined;
  if (jwksUrl !== undefined) {
    external = {
      url: jwksUrl,
      issuer: vars.required(
        "AUTH_ISSUER",
        "with AUTH_JWKS_URL (the exact `iss` your identity provider puts in tokens)",
      ),
      timeoutMs: vars.integer("AUTH_JWKS_TIMEOUT_MS", { min: 1, max: 60_000 }),
      cacheMaxAgeS: vars.integer("AUTH_JWKS_CACHE_MAX_AGE_S", { min: 1, max: 86_400 }),
      staleMaxS: vars.integer("AUTH_JWKS_STALE_MAX_S", { min: 0, max: 7 * 86_400 }),
    };
    if (builtIn !== undefined && external.issuer === builtIn.issuer) {
      vars.problem(
        "AUTH_ISSUER must differ from PUBLIC_URL: tokens are matched to their key set by issuer",
      );
    }
  }

  const audiences = vars.list("AUTH_AUDIENCE", issuerOfPublicUrl ? [issuerOfPublicUrl] : []);
  if (jwksUrl !== undefined && audiences.length === 0) {
    vars.problem(
      "AUTH_AUDIENCE is required with AUTH_JWKS_URL (the audience your identity provider issues tokens for), unless PUBLIC_URL is set",
    );
  }
  const requiredScope = vars.optionalText("AUTH_REQUIRED_SCOPE");
  if (
    requiredScope !== undefined && builtIn !== undefined && !builtIn.scopes.includes(requiredScope)
  ) {
    vars.problem(
      `OAUTH_SCOPES must include AUTH_REQUIRED_SCOPE "${requiredScope}", or no built-in token could pass`,
    );
  }

  return {
    mode,
    realm,
    audiences,
    algorithms: vars.algorithms("AUTH_ALGORITHMS"),
    clockToleranceS: vars.integer("AUTH_CLOCK_TOLERANCE_S", { min: 0, max: 300 }),
    ...(requiredScope !== undefined ? { requiredScope } : {}),
    verificationCacheTtlS: vars.integer("AUTH_VERIFICATION_CACHE_TTL_S", { min: 0, max: 3600 }),
    verificationCacheMaxEntries: vars.integer("AUTH_VERIFICATION_CACHE_MAX_ENTRIES", {
      min: 1,
      max: 1_000_000,
    }),
    ...(external ? { external } : {}),
    ...(builtIn ? { builtIn } : {}),
  };
}

/** The values no log line or response may contain. */
export function secretValues(config: Config): string[] {
  const secrets = [config.openWeather.apiKey];
  const { auth } = config;
  if (auth.mode === "basic") secrets.push(auth.password);
  if (auth.mode === "jwt" && auth.builtIn) {
    secrets.push(auth.builtIn.clientSecret);
    if (auth.builtIn.signingKey) secrets.push(auth.builtIn.signingKey);
  }
  return secrets.filter((secret) => secret !== "");
}

/** Reads declared variables and collects every problem instead of stopping at the first. */
class VariableReader {
  readonly problems: string[] = [];

  constructor(private readonly read: ReadVariable) {}

  /** A set variable, trimmed; blank counts as unset so `PORT=` in `.env` means the default. */
  private value(name: VariableName): string | undefined {
    const raw = this.read(name)?.trim();
    return raw === "" ? undefined : raw;
  }

  private valueOrDefault(name: VariableName): string | undefined {
    const spec: VariableSpec = CONFIG_VARIABLES[name];
    return this.value(name) ?? spec.default;
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  text(name: VariableName): string {
    return this.valueOrDefault(name) ?? "";
  }

  optionalText(name: VariableName): string | undefined {
    return this.value(name);
  }

  required(name: VariableName, context: string): string {
    const value = this.value(name);
    if (value === undefined) this.problems.push(`${name} is required ${context}`);
    return value ?? "";
  }

  /** Required and never echoed back in a message. */
  secret(name: VariableName, { minLength }: { minLength: number }): string {
    const value = this.value(name);
    if (value === undefined) this.problems.push(`${name} is required`);
    else if (value.length < minLength) {
      this.problems.push(`${name} must be at least ${minLength} characters long`);
    }
    return value ?? "";
  }

  /** Comma-separated values, blanks dropped; `fallback` for defaults computed from other settings. */
  list(name: VariableName, fallback: readonly string[] = []): string[] {
    const raw = this.valueOrDefault(name);
    if (raw === undefined) return [...fallback];
    return raw.split(",").map((item) => item.trim()).filter((item) => item !== "");
  }

  algorithms(name: VariableName): SigningAlgorithm[] {
    const values = this.list(name);
    const unsupported = values.filter(
      (value) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(value),
    );
    if (unsupported.length > 0 || values.length === 0) {
      this.problems.push(
        `${name} must list asymmetric algorithms only (${ASYMMETRIC_ALGORITHMS.join(", ")}), ` +
          `got ${unsupported.map((value) => `"${value}"`).join(", ") || "nothing"}`,
      );
      return ["RS256"];
    }
    return values as SigningAlgorithm[];
  }

  integer(name: VariableName, range: { min: number; max: number }): number {
    const raw = this.valueOrDefault(name) ?? "";
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= range.min && value <= range.max)) {
      this.problems.push(
        `${name} must be a whole number from ${range.min} to ${range.max}, got "${raw}"`,
      );
      return range.min;
    }
    return value;
  }

  httpUrl(name: VariableName): URL {
    return this.parseHttpUrl(name, this.valueOrDefault(name) ?? "");
  }

  optionalHttpUrl(
    name: VariableName,
    { requireHttpsUnlessLoopback = false } = {},
  ): URL | undefined {
    const raw = this.value(name);
    if (raw === undefined) return undefined;
    const url = this.parseHttpUrl(name, raw);
    if (requireHttpsUnlessLoopback && url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
      this.problems.push(`${name} must be an https URL (http is allowed only for localhost)`);
    }
    return url;
  }

  private parseHttpUrl(name: VariableName, raw: string): URL {
    const url = URL.parse(raw);
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
      this.problems.push(`${name} must be an http or https URL, got "${raw}"`);
      return new URL("http://invalid.invalid/");
    }
    if (url.username || url.password) {
      this.problems.push(`${name} must not contain credentials`);
    }
    return url;
  }

  oneOf<const T extends string>(name: VariableName, allowed: readonly T[]): T {
    const raw = this.valueOrDefault(name) ?? "";
    const value = allowed.find((candidate) => candidate === raw.toLowerCase());
    if (value === undefined) {
      this.problems.push(
        `${name} must be one of ${allowed.map((v) => `"${v}"`).join(", ")}, got "${raw}"`,
      );
      return allowed[0]!;
    }
    return value;
  }
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !(value instanceof URL)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
