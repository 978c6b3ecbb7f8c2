/**
 * The subset of Genesys's Velocity templates and JSONPath that the exported
 * definitions use, so `deno task invoke` can run them as Genesys would:
 * `${a.b}` lookups, `$encoding.base64("...")`, and `$.a.b` paths.
 */

export class TemplateError extends Error {
  override name = "TemplateError";
}

function lookup(context: Record<string, unknown>, path: string): unknown {
  let value: unknown = context;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null || !(part in value)) {
      throw new TemplateError(`Template variable "${path}" is not set`);
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function renderTemplate(template: string, context: Record<string, unknown>): string {
  const substituted = template.replace(/\$\{([A-Za-z_][\w.]*)\}/g, (_, path: string) => {
    const value = lookup(context, path);
    return typeof value === "string" ? value : JSON.stringify(value);
  });
  return substituted.replace(/\$encoding\.base64\("((?:[^"\\]|\\.)*)"\)/g, (_, text: string) => {
    const bytes = new TextEncoder().encode(text.replace(/\\(.)/g, "$1"));
    return btoa(String.fromCharCode(...bytes));
  });
}

/** `$.a.b` against a JSON value; undefined when the path is absent. */
export function jsonPath(value: unknown, path: string): unknown {
  if (!path.startsWith("$.")) throw new TemplateError(`Unsupported JSONPath "${path}"`);
  let current = value;
  for (const part of path.slice(2).split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
