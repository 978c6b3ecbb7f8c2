/**
 * A response configuration's translation map, as Genesys evaluates it
 * ("Response configuration for data actions",
 * https://help.mypurecloud.com/articles/response-configuration-data-actions/):
 * each name gets the value its JSONPath finds in the response, as JSON text,
 * for the success template to place (`"city": ${city}` keeps a string's
 * quotes).
 *
 * Paths are evaluated by a real JSONPath engine (jsonpath-plus): brackets,
 * indexes, deep scan, wildcards and filters. As in Jayway JsonPath, the
 * engine Genesys runs on Java, a definite path (names and indexes only) gives
 * its one value, and any other path gives the array of what it matched, which
 * may be empty. "The default value is used if the JSONPath expression ...
 * fails to resolve a value. Null values do not fall back to defaults": so a
 * definite path that finds nothing takes its default (itself JSON text), a
 * null is "null", and with neither the action fails.
 */

import { JSONPath } from "jsonpath-plus";

export type TranslationResult =
  | { ok: true; values: Record<string, string> }
  | { ok: false; message: string };

/** A path that can match more than one value: deep scan, wildcard, filter, slice or union. */
function isIndefinite(path: string): boolean {
  return JSONPath.toPathArray(path).some((step) =>
    step === ".." || step === "*" || step.startsWith("?(") || step.includes(":") ||
    step.includes(",")
  );
}

function evaluate(path: string, body: unknown): unknown[] {
  // "safe" evaluates filters with the library's own interpreter, never with eval.
  return JSONPath({ path, json: body as object, wrap: true, eval: "safe" }) as unknown[];
}

export function applyTranslationMap(
  body: unknown,
  translationMap: Record<string, string>,
  defaults: Record<string, string>,
): TranslationResult {
  const values: Record<string, string> = {};
  for (const [name, path] of Object.entries(translationMap)) {
    let matches: unknown[];
    try {
      matches = evaluate(path, body);
    } catch (error) {
      return {
        ok: false,
        message: `The translation map's "${name}" has a JSONPath that cannot be read (${path}): ${
          (error as Error).message
        }`,
      };
    }
    if (isIndefinite(path)) {
      values[name] = JSON.stringify(matches);
    } else if (matches.length > 0) {
      values[name] = JSON.stringify(matches[0]);
    } else if (Object.hasOwn(defaults, name)) {
      values[name] = defaults[name]!;
    } else {
      return {
        ok: false,
        message:
          `The translation map's "${name}" (${path}) found nothing in the response, and it has no default`,
      };
    }
  }
  return { ok: true, values };
}
