/**
 * Every setting, read and validated once at start-up into a frozen object.
 * Each domain declares its own variables and reads them (src/*\/config.ts);
 * this module only composes them. A missing or invalid value stops the
 * process with a message that names the variable and says what it expects;
 * all problems are reported at once.
 *
 * CONFIG_VARIABLES is the one list of variables: the reader accepts no other
 * name, literal defaults live only in the declarations, and the configuration
 * table in docs/configuration.md and deno.json's permission set are generated
 * from it (`deno task docs`) and checked against it.
 */

import {
  AUTH_VARIABLES,
  type AuthConfig,
  type JwtAuthConfig,
  readAuthConfig,
} from "./auth/config.ts";
import { HTTP_VARIABLES, type HttpConfig, readHttpConfig } from "./http/config.ts";
import {
  type BuiltInOAuthConfig,
  OAUTH_VARIABLES,
  readBuiltInIssuerSettings,
} from "./oauth/config.ts";
import { PROCESS_VARIABLES, type ProcessConfig, readProcessConfig } from "./process/config.ts";
import { onDenoDeploy, type ReadVariable } from "./process/env_file.ts";
import { ConfigError, VariableReader } from "./process/variables.ts";
import { readStoreConfig, type SharedStoreConfig, STORE_VARIABLES } from "./store/config.ts";
import { readWeatherConfig, WEATHER_VARIABLES, type WeatherConfig } from "./weather/config.ts";

export { ConfigError };

/** Each domain's variables, in the order the docs list them, with what they configure. */
export const CONFIG_DOMAINS = [
  { about: "the process", variables: PROCESS_VARIABLES },
  { about: "OpenWeatherMap and the weather cache", variables: WEATHER_VARIABLES },
  { about: "the shared store", variables: STORE_VARIABLES },
  { about: "authentication", variables: AUTH_VARIABLES },
  { about: "the built-in token endpoint", variables: OAUTH_VARIABLES },
  { about: "the HTTP edge", variables: HTTP_VARIABLES },
] as const;

export const CONFIG_VARIABLES = {
  ...PROCESS_VARIABLES,
  ...WEATHER_VARIABLES,
  ...STORE_VARIABLES,
  ...AUTH_VARIABLES,
  ...OAUTH_VARIABLES,
  ...HTTP_VARIABLES,
} as const;

export type VariableName = keyof typeof CONFIG_VARIABLES;

/**
 * How callers authenticate; in `jwt` mode with the built-in token endpoint
 * on, that endpoint's settings too, since its tokens are among those trusted.
 */
export type AuthSettings =
  | Exclude<AuthConfig, JwtAuthConfig>
  | JwtAuthConfig & { readonly builtIn?: BuiltInOAuthConfig };

export type Config =
  & ProcessConfig
  & WeatherConfig
  & HttpConfig
  & { readonly auth: AuthSettings; readonly sharedStore: SharedStoreConfig };

/** The secret values each configuration was read with, for secretValues(). */
const secretsOf = new WeakMap<Config, readonly string[]>();

export function loadConfig(read: ReadVariable): Config {
  const vars = new VariableReader<VariableName>(read, CONFIG_VARIABLES, onDenoDeploy(read));
  const config: Config = {
    ...readProcessConfig(vars),
    ...readWeatherConfig(vars),
    ...readStoreConfig(vars),
    auth: readAuthSettings(vars),
    ...readHttpConfig(vars),
  };
  // Else a request still within its deadline is cut off when Deploy stops the
  // instance. (Skipped when either value is already reported invalid.)
  if (
    vars.problems.length === 0 && config.onDenoDeploy &&
    config.requestDeadlineMs >= config.shutdownGraceMs
  ) {
    vars.problem(
      `On Deno Deploy REQUEST_DEADLINE_MS (${config.requestDeadlineMs}) must be below SHUTDOWN_GRACE_MS (${config.shutdownGraceMs})`,
    );
  }
  if (vars.problems.length > 0) throw new ConfigError(vars.problems);
  secretsOf.set(config, vars.secrets.filter((secret) => secret !== ""));
  return deepFreeze(config);
}

/**
 * Authentication's settings and the built-in token endpoint's, each read by
 * its own domain: auth learns of the endpoint only what its checks need
 * (the endpoint's issuer, scopes and token lifetime, and PUBLIC_URL as the
 * default audience), and oauth nothing of auth.
 */
function readAuthSettings(vars: VariableReader<VariableName>): AuthSettings {
  let builtIn: BuiltInOAuthConfig | undefined;
  const auth = readAuthConfig(vars, () => {
    const settings = readBuiltInIssuerSettings(vars);
    builtIn = settings.builtIn;
    return { publicUrl: settings.publicIssuer, issuer: settings.builtIn };
  });
  return auth.mode === "jwt" && builtIn !== undefined ? { ...auth, builtIn } : auth;
}

/**
 * The values no log line or response may contain: those of every variable
 * declared `secret` that this configuration was read with.
 */
export function secretValues(config: Config): string[] {
  const secrets = secretsOf.get(config);
  if (secrets === undefined) throw new Error("secretValues() needs a Config from loadConfig()");
  return [...secrets];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !(value instanceof URL)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
