/**
 * Every setting, read and validated once at start-up into a frozen object.
 * A missing or invalid value stops the process with a message that names the
 * variable and says what it expects; all problems are reported at once.
 */

import type { ReadVariable } from "./env_file.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";

export const DEFAULT_OPENWEATHER_BASE_URL = "https://api.openweathermap.org/data/2.5/weather";

/**
 * Secrets are redacted from logs by value, and a value of a few characters
 * would be both guessable and impossible to redact without mangling every
 * line. OpenWeatherMap keys are 32 characters.
 */
export const MIN_SECRET_LENGTH = 8;

export const AUTH_MODES = ["none"] as const;
export type AuthMode = typeof AUTH_MODES[number];

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly openWeather: {
    readonly apiKey: string;
    readonly baseUrl: URL;
    readonly timeoutMs: number;
  };
  readonly auth: { readonly mode: AuthMode };
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
    host: vars.text("HOST", "0.0.0.0"),
    port: vars.integer("PORT", 8080, { min: 0, max: 65535 }),
    logLevel: vars.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    openWeather: {
      apiKey: vars.secret("OPENWEATHER_API_KEY", { minLength: MIN_SECRET_LENGTH }),
      baseUrl: vars.httpUrl("OPENWEATHER_BASE_URL", DEFAULT_OPENWEATHER_BASE_URL),
      timeoutMs: vars.integer("OPENWEATHER_TIMEOUT_MS", 3000, { min: 1, max: 60_000 }),
    },
    auth: {
      mode: vars.oneOf("AUTH_MODE", AUTH_MODES, undefined, {
        missing:
          'AUTH_MODE must be set: authentication is not built yet, so set AUTH_MODE="none" ' +
          "to run with an open endpoint on purpose",
      }),
    },
  };
  if (vars.problems.length > 0) throw new ConfigError(vars.problems);
  return deepFreeze(config);
}

/** The values no log line or response may contain. */
export function secretValues(config: Config): string[] {
  return [config.openWeather.apiKey];
}

/** Reads variables and collects every problem instead of stopping at the first. */
class VariableReader {
  readonly problems: string[] = [];

  constructor(private readonly read: ReadVariable) {}

  /** A set variable, trimmed; blank counts as unset so `PORT=` in `.env` means the default. */
  private value(name: string): string | undefined {
    const raw = this.read(name)?.trim();
    return raw === "" ? undefined : raw;
  }

  text(name: string, fallback: string): string {
    return this.value(name) ?? fallback;
  }

  /** Required and never echoed back in a message. */
  secret(name: string, { minLength }: { minLength: number }): string {
    const value = this.value(name);
    if (value === undefined) this.problems.push(`${name} is required`);
    else if (value.length < minLength) {
      this.problems.push(`${name} must be at least ${minLength} characters long`);
    }
    return value ?? "";
  }

  integer(name: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.value(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= range.min && value <= range.max)) {
      this.problems.push(
        `${name} must be a whole number from ${range.min} to ${range.max}, got "${raw}"`,
      );
      return fallback;
    }
    return value;
  }

  httpUrl(name: string, fallback: string): URL {
    const raw = this.value(name) ?? fallback;
    const url = URL.parse(raw);
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
      this.problems.push(`${name} must be an http or https URL, got "${raw}"`);
      return new URL(fallback);
    }
    if (url.username || url.password) {
      this.problems.push(`${name} must not contain credentials`);
    }
    return url;
  }

  oneOf<const T extends string>(
    name: string,
    allowed: readonly T[],
    fallback: T | undefined,
    messages: { missing?: string } = {},
  ): T {
    const raw = this.value(name);
    if (raw === undefined) {
      if (fallback !== undefined) return fallback;
      this.problems.push(messages.missing ?? `${name} is required`);
      return allowed[0]!;
    }
    const value = allowed.find((candidate) => candidate === raw.toLowerCase());
    if (value === undefined) {
      this.problems.push(
        `${name} must be one of ${allowed.map((v) => `"${v}"`).join(", ")}, got "${raw}"`,
      );
      return fallback ?? allowed[0]!;
    }
    return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !(value instanceof URL)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
