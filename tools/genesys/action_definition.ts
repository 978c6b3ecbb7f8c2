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

/** A custom auth action has no contract: its answer becomes `authResponse`. */
export const CustomAuthDefinitionSchema = z.object({
  name: z.string().optional(),
  config: ActionConfigSchema,
});

export type ActionDefinition = z.infer<typeof ActionDefinitionSchema>;
export type ActionConfig = ActionDefinition["config"];
export type CustomAuthDefinition = z.infer<typeof CustomAuthDefinitionSchema>;

/** Reads a definition, or says which field is wrong. */
export function parseActionDefinition(
  json: unknown,
): { ok: true; definition: ActionDefinition } | { ok: false; message: string } {
  const parsed = ActionDefinitionSchema.safeParse(json);
  return parsed.success
    ? { ok: true, definition: parsed.data }
    : { ok: false, message: z.prettifyError(parsed.error).replaceAll("\n", " ") };
}
