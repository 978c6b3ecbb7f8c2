/**
 * Renders the docs tables (the Data Action contract in docs/contract.md and
 * the forecast action's answer there too, the configuration variables in
 * docs/configuration.md, and the variables the permission set grants in
 * docs/deployment.md) from the same declarations the service runs on.
 */

import type { z } from "zod";
import { INVALID_INPUT, UPSTREAM_FAILURES } from "../src/weather/contract.ts";
import {
  type ContractField,
  contractFields,
  ForecastReportSchema,
  RequestFieldsSchema,
  WeatherReportSchema,
} from "./contract_schema.ts";
import { CONFIG_DOMAINS, CONFIG_VARIABLES } from "../src/config.ts";
import { REQUEST_ERRORS } from "../src/http/errors.ts";
import { UNDICI_ENV_READS } from "../src/process/outbound_http.ts";

function typeOf(field: ContractField): string {
  return field.enum ? field.enum.map((value) => `"${value}"`).join(" \\| ") : field.type;
}

/** A Markdown table with padded columns, readable as plain text too. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((cells) => cells[column]!.length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)]
    .join("\n");
}

/** A contract schema's fields: name, type, whether it is always there, and meaning. */
function fields(schema: z.ZodObject, io: "input" | "output", requiredHeader: string): string {
  return table(
    ["field", "type", requiredHeader, "meaning"],
    contractFields(schema, io).map((field) => [
      `\`${field.name}\``,
      typeOf(field),
      field.required ? "yes" : "no",
      field.description,
    ]),
  );
}

export function renderContractDocs(): string {
  const input = fields(RequestFieldsSchema, "input", "required");
  const output = fields(WeatherReportSchema, "output", "always on success");
  const failures = table(
    ["`error_code`", "`error_message`", "when"],
    Object.entries({ INVALID_INPUT, ...UPSTREAM_FAILURES }).map(([code, { message, when }]) => [
      `\`${code}\``,
      message,
      when,
    ]),
  );
  const requestErrors = table(
    ["status", "`error_code`", "when"],
    Object.entries(REQUEST_ERRORS).map(([code, { status, when }]) => [
      String(status),
      `\`${code}\``,
      when,
    ]),
  );
  return [
    "## Input (JSON object)",
    input,
    "## Success: `200`",
    output,
    "## Unusable values and upstream trouble: `200` with `error_code` and `error_message`, no weather fields",
    failures,
    '## Bad requests: HTTP errors with `{ "error_code", "error_message" }`',
    requestErrors,
  ].join("\n\n");
}

/** The forecast action's answer; its request and its errors are the weather action's. */
export function renderForecastContractDocs(): string {
  return [
    "### Forecast success: `200`",
    fields(ForecastReportSchema, "output", "always on success"),
  ].join("\n\n");
}

export function renderConfigurationDocs(): string {
  return table(
    ["variable", "default", "meaning"],
    Object.entries(CONFIG_VARIABLES).map(([name, spec]) => {
      const { default: value, documentedDefault, deployDefault } = spec as {
        default?: string;
        documentedDefault?: string;
        deployDefault?: string;
      };
      const shown = value !== undefined ? `\`${value}\`` : documentedDefault ?? "(unset)";
      return [
        `\`${name}\``,
        deployDefault !== undefined ? `${shown} (\`${deployDefault}\` on Deno Deploy)` : shown,
        spec.meaning,
      ];
    }),
  );
}

/**
 * Every environment variable the service may read: its own, each declared by
 * its domain, and the two undici reads when it loads. deno.json's permission
 * set grants exactly these (`deno task docs` writes them there too).
 */
export function grantedEnvironment(): string[] {
  return [...Object.keys(CONFIG_VARIABLES), ...UNDICI_ENV_READS];
}

/** The `env` part of the permissions in docs/deployment.md, grouped by what each variable configures. */
export function renderPermissionsDocs(): string {
  const names = (list: readonly string[]) => list.map((name) => `\`${name}\``).join(", ");
  return [
    "- `env`: only the variables it reads, and nothing else:",
    ...CONFIG_DOMAINS.map(({ about, variables }) =>
      `  - ${about}: ${names(Object.keys(variables))};`
    ),
    `  - read by undici when it loads: ${names(UNDICI_ENV_READS)}.`,
  ].join("\n");
}

/** Each generated block: the file (from the repository root) that holds it, and its rendering. */
export const GENERATED_BLOCKS = {
  contract: { file: "docs/contract.md", render: renderContractDocs },
  "forecast-contract": { file: "docs/contract.md", render: renderForecastContractDocs },
  configuration: { file: "docs/configuration.md", render: renderConfigurationDocs },
  "permissions-env": { file: "docs/deployment.md", render: renderPermissionsDocs },
} as const;

/** The files that hold generated blocks, each once. */
export const GENERATED_FILES: readonly string[] = [
  ...new Set(Object.values(GENERATED_BLOCKS).map(({ file }) => file)),
];

/** `text`, the content of `file`, with each of its generated blocks replaced by the current rendering. */
export function withGeneratedTables(file: string, text: string): string {
  let result = text;
  for (const [name, block] of Object.entries(GENERATED_BLOCKS)) {
    if (block.file !== file) continue;
    const start = `<!-- ${name}:start (generated by \`deno task docs\`) -->`;
    const end = `<!-- ${name}:end -->`;
    const from = result.indexOf(start);
    const to = result.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${file} has no "${name}" block markers`);
    // deno fmt would re-align the tables, so generated blocks are exempt from it.
    result = result.slice(0, from + start.length) + "\n<!-- deno-fmt-ignore-start -->\n\n" +
      block.render() + "\n\n<!-- deno-fmt-ignore-end -->\n" + result.slice(to);
  }
  return result;
}
