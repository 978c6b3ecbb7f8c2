/**
 * Terraform's JSON syntax reads every string as a template: `${...}` is
 * interpolated and `%{...}` is a directive, wherever the string sits
 * (a header, a contract's description, a JSON document in a string). Genesys
 * templates use `${...}` too. So every string the generator writes is escaped,
 * and the few places that are meant as Terraform are marked as expressions.
 */

/** A Terraform expression, written as `${source}`; the only strings left unescaped. */
export class TerraformExpression {
  constructor(readonly source: string) {
    // A template inside an expression would escape the escaping: use format() instead.
    if (source.includes("${") || source.includes("%{")) {
      throw new Error(`A Terraform expression holds a template: ${source}`);
    }
  }
}

/** Marks `source` (e.g. `var.service_url`) as a Terraform expression. */
export function tf(source: string): TerraformExpression {
  return new TerraformExpression(source);
}

/**
 * A literal for Terraform: `${` becomes `$${` and `%{` becomes `%%{`
 * (Terraform's escapes, which it turns back into `${` and `%{`).
 */
export function escapeForTerraform(text: string): string {
  // Replacer functions: in a replacement string, "$$" would mean a single "$".
  return text.replaceAll("${", () => "$${").replaceAll("%{", () => "%%{");
}

/** What Terraform makes of an escaped literal: the inverse of escapeForTerraform(). */
export function unescapeTerraform(text: string): string {
  return text.replaceAll("$${", () => "${").replaceAll("%%{", () => "%{");
}

/** A JSON value made safe for a `.tf.json` file: strings escaped, expressions written out. */
export function toTerraformJson(value: unknown): unknown {
  if (value instanceof TerraformExpression) return "${" + value.source + "}";
  if (typeof value === "string") return escapeForTerraform(value);
  if (Array.isArray(value)) return value.map(toTerraformJson);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toTerraformJson(item)]),
    );
  }
  return value;
}
