/**
 * A Data Action's definition, as Genesys exports it (Admin → Integrations →
 * Actions → Export) and as `deno task export-actions` writes it: checked when
 * read, so a file that is not one is refused with the field at fault.
 */

import { z } from "zod";

const StringMap = z.record(z.string(), z.string());

const ActionConfigSchema = z.object({
  request: z.object({
    requestUrlTemplate: z.string(),
    requestType: z.enum(["GET", "PUT", "POST", "PATCH", "DELETE"]),
    headers: StringMap.default({}),
    // Genesys shows this default where an action has none (GETs send no body).
    requestTemplate: z.string().default("${input.rawRequest}"),
  }),
  response: z.object({
    translationMap: StringMap.default({}),
    translationMapDefaults: StringMap.default({}),
    successTemplate: z.string().default("${rawResult}"),
  }).default({ translationMap: {}, translationMapDefaults: {}, successTemplate: "${rawResult}" }),
  timeoutSeconds: z.number().int().min(1).max(60).optional(),
});

const JsonSchemaObject = z.looseObject({ type: z.literal("object") });

export const ActionDefinitionSchema = z.object({
  name: z.string().optional(),
  config: ActionConfigSchema,
  contract: z.object({
    input: z.object({ inputSchema: JsonSchemaObject }),
    output: z.object({ successSchema: JsonSchemaObject }),
  }),
});

export type ActionDefinition = z.infer<typeof ActionDefinitionSchema>;
export type ActionConfig = ActionDefinition["config"];

/** A custom auth action has no contract: its answer becomes `authResponse`. */
export interface CustomAuthDefinition {
  name?: string;
  config: ActionConfig;
}

export type DefinitionResult =
  | { ok: true; definition: ActionDefinition }
  | { ok: false; message: string };

/** Reads a definition, or says which field is wrong. */
export function parseActionDefinition(json: unknown): DefinitionResult {
  const parsed = ActionDefinitionSchema.safeParse(json);
  return parsed.success ? { ok: true, definition: parsed.data } : {
    ok: false,
    message: `not a Data Action: ${z.prettifyError(parsed.error).replaceAll("\n", " ")}`,
  };
}

/** Reads a definition file, or says why it cannot be run: unreadable, not JSON, or not one. */
export function readActionDefinition(path: string | URL): DefinitionResult {
  let json: unknown;
  try {
    json = JSON.parse(Deno.readTextFileSync(path));
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  return parseActionDefinition(json);
}
