/** Reading a configuration in tests: from exactly the variables given, never the real environment. */

import assert from "node:assert/strict";
import { type Config, ConfigError, loadConfig } from "../../src/config.ts";

export function loadConfigFrom(variables: Record<string, string>): Config {
  return loadConfig((name) => variables[name]);
}

/** The problems loadConfig() reports for these variables; fails the test if it accepts them. */
export function configProblems(variables: Record<string, string>): readonly string[] {
  try {
    loadConfigFrom(variables);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("loadConfig accepted an invalid configuration");
}
