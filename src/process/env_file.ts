/**
 * The process environment, with a `.env` file beneath it: a variable set in
 * the real environment always wins over the file.
 *
 * The file is parsed with dotenv's `parse` (a pure function over the text: it
 * reads no environment variable and no file, so it needs no permission),
 * imported only when there is a file: it brings Node's fs, os and crypto
 * modules, about 7 ms of a cold start where none is needed; and
 * not with `node:util` `parseEnv`, which Deno has only since 2.7: the service
 * must start on every Deno from 2.5.0 (what Deno Deploy documents) on.
 * `node:process` `loadEnvFile` is not used either: in Deno it overwrites
 * variables that are already set, which would let a stale `.env` beat the
 * operator's real configuration.
 *
 * On Deno Deploy (`DENO_DEPLOY=true`) no `.env` is read at all: configuration
 * there is the project's environment variables and secrets, and a developer's
 * `.env` uploaded with the code must not configure production.
 */

export type ReadVariable = (name: string) => string | undefined;

/** Reads `.env`-style `KEY=value` lines; a missing file is an empty one. */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  const { parse } = await import("dotenv");
  return parse(text);
}

/** True when running on Deno Deploy, which sets DENO_DEPLOY=true in every instance. */
export function onDenoDeploy(read: ReadVariable = (name) => Deno.env.get(name)): boolean {
  return read("DENO_DEPLOY") === "true";
}

/** `real` is the process environment unless a test gives another (tests share one process). */
export async function environmentWithEnvFile(
  envFilePath = ".env",
  real: ReadVariable = (name) => Deno.env.get(name),
): Promise<ReadVariable> {
  if (onDenoDeploy(real)) return real;
  const fileVariables = await readEnvFile(envFilePath);
  return (name) => real(name) ?? fileVariables[name];
}
