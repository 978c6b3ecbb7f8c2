/**
 * How a configuration variable is declared and read. Each domain declares its
 * own variables (name, default, meaning) beside its code and reads them with a
 * VariableReader; src/config.ts composes the domains. The reader collects every
 * problem instead of stopping at the first, so an operator fixes them all at once,
 * and remembers the value of every variable declared secret, so the logger can
 * redact exactly those.
 */

import type { ReadVariable } from "./env_file.ts";
import { readSecretFileSync, secretDirectories, SecretFileError } from "./secret_file.ts";

export interface VariableSpec {
  /** The value used when the variable is unset, parsed like a real one. */
  readonly default?: string;
  /** What docs/configuration.md shows as the default when it is not a literal. */
  readonly documentedDefault?: string;
  /**
   * The default on Deno Deploy (DENO_DEPLOY=true), when it must differ: Deploy
   * stops an instance with SIGINT and kills it 5 s later, whatever it is doing.
   */
  readonly deployDefault?: string;
  readonly meaning: string;
  /** Its value must never reach a log line, a response or a metric. */
  readonly secret?: boolean;
}

export type VariableSpecs<Name extends string = string> = Readonly<Record<Name, VariableSpec>>;

/**
 * Secrets are redacted from logs by value, and a value of a few characters
 * would be both guessable and impossible to redact without mangling every
 * line. OpenWeatherMap keys are 32 characters.
 */
export const MIN_SECRET_LENGTH = 8;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
  }
}

/** Reads declared variables and collects every problem instead of stopping at the first. */
export class VariableReader<Name extends string> {
  readonly problems: string[] = [];
  /** The values of secret variables read so far. */
  readonly secrets: string[] = [];

  constructor(
    private readonly read: ReadVariable,
    private readonly specs: VariableSpecs<Name>,
    /** True on Deno Deploy: each spec's `deployDefault` replaces its `default`. */
    readonly onDeploy = false,
  ) {}

  /** A set variable, trimmed; blank counts as unset so `PORT=` in `.env` means the default. */
  private value(name: Name): string | undefined {
    const raw = this.read(name)?.trim();
    const value = raw === "" ? undefined : raw;
    if (value !== undefined && this.specs[name].secret) this.secrets.push(value);
    return value;
  }

  private valueOrDefault(name: Name): string | undefined {
    const spec = this.specs[name];
    return this.value(name) ?? (this.onDeploy ? spec.deployDefault : undefined) ?? spec.default;
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  /**
   * A value that is secret only sometimes (a URL with credentials), or a secret
   * found inside another value (the password in it), to be redacted like one.
   */
  addSecret(value: string): void {
    this.secrets.push(value);
  }

  text(name: Name): string {
    return this.valueOrDefault(name) ?? "";
  }

  optionalText(name: Name): string | undefined {
    return this.value(name);
  }

  required(name: Name, context: string): string {
    const value = this.value(name);
    if (value === undefined) this.problems.push(`${name} is required ${context}`);
    return value ?? "";
  }

  /**
   * A secret given either inline in `name` or as a file named by `fileName`
   * (Docker secrets, systemd credentials), read now and trimmed; setting both
   * is a problem. The path may appear in a message, the content never does.
   */
  optionalSecretOrFile(name: Name, fileName: Name): string | undefined {
    const path = this.value(fileName);
    const inline = this.value(name);
    if (path === undefined) return inline;
    if (inline !== undefined) {
      this.problems.push(`Set ${name} or ${fileName}, not both`);
      return inline;
    }
    try {
      const value = readSecretFileSync(
        path,
        secretDirectories(this.read("CREDENTIALS_DIRECTORY")?.trim() || undefined),
      );
      this.secrets.push(value);
      return value;
    } catch (error) {
      if (!(error instanceof SecretFileError)) throw error;
      this.problems.push(`${fileName} "${path}" ${error.message}`);
      return "";
    }
  }

  /** Required, inline or from a file (see optionalSecretOrFile), and never echoed back. */
  secretOrFile(name: Name, fileName: Name, { minLength }: { minLength: number }): string {
    const problemsBefore = this.problems.length;
    const value = this.optionalSecretOrFile(name, fileName);
    if (this.problems.length > problemsBefore) return value ?? "";
    if (value === undefined) this.problems.push(`${name} is required (or ${fileName})`);
    else if (value.length < minLength) {
      this.problems.push(`${name} must be at least ${minLength} characters long`);
    }
    return value ?? "";
  }

  /** Comma-separated values, blanks dropped; `fallback` for defaults computed from other settings. */
  list(name: Name, fallback: readonly string[] = []): string[] {
    const raw = this.valueOrDefault(name);
    if (raw === undefined) return [...fallback];
    return raw.split(",").map((item) => item.trim()).filter((item) => item !== "");
  }

  integer(name: Name, range: { min: number; max: number }): number {
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

  /** A number such as `17.2`: digits with an optional fraction, no sign or exponent. */
  decimal(name: Name, range: { min: number; max: number }): number {
    const raw = this.valueOrDefault(name) ?? "";
    const value = /^\d+(?:\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= range.min && value <= range.max)) {
      this.problems.push(
        `${name} must be a number from ${range.min} to ${range.max}, got "${raw}"`,
      );
      return range.min;
    }
    return value;
  }

  httpUrl(name: Name): URL {
    return this.parseHttpUrl(name, this.valueOrDefault(name) ?? "");
  }

  optionalHttpUrl(name: Name, { requireHttpsUnlessLoopback = false } = {}): URL | undefined {
    const raw = this.value(name);
    if (raw === undefined) return undefined;
    const url = this.parseHttpUrl(name, raw);
    if (requireHttpsUnlessLoopback && url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
      this.problems.push(`${name} must be an https URL (http is allowed only for localhost)`);
    }
    return url;
  }

  private parseHttpUrl(name: Name, raw: string): URL {
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

  oneOf<const T extends string>(name: Name, allowed: readonly T[]): T {
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
