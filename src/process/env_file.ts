/**
 * The process environment, with a `.env` file beneath it: a variable set in
 * the real environment always wins over the file.
 *
 * `node:process` `loadEnvFile` is not used because in Deno it overwrites
 * variables that are already set, which would let a stale `.env` beat the
 * operator's real configuration.
 */

import { parseEnv } from "node:util";

export type ReadVariable = (name: string) => string | undefined;

/** Reads `.env`-style `KEY=value` lines; a missing file is an empty one. */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  return { ...parseEnv(text) } as Record<string, string>;
}

export function environmentWithEnvFile(envFilePath = ".env"): ReadVariable {
  const fileVariables = readEnvFile(envFilePath);
  return (name) => Deno.env.get(name) ?? fileVariables[name];
}
