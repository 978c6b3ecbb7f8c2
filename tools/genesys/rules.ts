/**
 * The rules Genesys Cloud applies to a Data Action's contracts, checked
 * before anything is exported (and by a test), so an import never fails on
 * them and Architect can map every field.
 */

export interface JsonSchemaObject {
  type: "object";
  properties: Record<string, { type: string; description?: string; items?: unknown }>;
  required?: string[];
}

const PROPERTY_NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
/** Names Genesys reserves in an action's input. */
const RESERVED_INPUT_NAMES = ["orgId", "integrationId", "rawRequest"];
const FLAT_TYPES = ["string", "integer", "number", "boolean"];

export function genesysContractProblems(
  input: JsonSchemaObject,
  output: JsonSchemaObject,
): string[] {
  const problems: string[] = [];
  for (const [name, property] of Object.entries(input.properties)) {
    if (!PROPERTY_NAME.test(name)) problems.push(`Input "${name}" does not match ${PROPERTY_NAME}`);
    if (RESERVED_INPUT_NAMES.includes(name)) {
      problems.push(`Input "${name}" is a name Genesys reserves`);
    }
    if (!FLAT_TYPES.includes(property.type)) {
      problems.push(`Input "${name}" must be one of ${FLAT_TYPES.join(", ")}`);
    }
  }
  for (const [name, property] of Object.entries(output.properties)) {
    if (!PROPERTY_NAME.test(name)) {
      problems.push(`Output "${name}" does not match ${PROPERTY_NAME}`);
    }
    if (!property.description) problems.push(`Output "${name}" has no description`);
    const items = property.items as { type?: string } | undefined;
    if (property.type === "array" && items?.type === "array") {
      problems.push(`Output "${name}" is a nested array`);
    }
  }
  return problems;
}
