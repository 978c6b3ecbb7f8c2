/**
 * `deno task invoke`: calls a deployed service exactly as Genesys Cloud will,
 * from the exported definitions under genesys/.
 *
 *   deno task invoke --url https://weather.example.com \
 *     (--city London [--country GB] | --postal-code "SW1A 1AA" --country GB |
 *      --latitude 51.51 --longitude=-0.13) [--units metric] [--lang en-us] \
 *     [--forecast] [--kind city|postal_code|coordinates | --action FILE] \
 *     [--credential-type oauth|basic|none] [--token-url URL] \
 *     [--scope SCOPE] [--audience AUDIENCE] --credentials-from-env
 *
 * It runs one action: the weather action (with --forecast, the forecast
 * action) for the kind of place given (or named by --kind), for the
 * credential type, from genesys/actions/; or the definition in FILE (under
 * genesys/, the only folder the task may read). Each option sets the input
 * of that name, and only an input the action has, as Architect offers only
 * those; numbers go as JSON numbers where the action's input is a number.
 * A value that starts with "-" is written `--longitude=-0.13`.
 *
 * Credentials come from the environment only (never the command line):
 * OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET for oauth, BASIC_AUTH_USER /
 * BASIC_AUTH_PASSWORD for basic. --scope and --audience add those parameters
 * to the token request, as `deno task export-actions --scope ...` does for an
 * identity provider. Exit codes: 0 the flow gets the weather (or the
 * forecast); 3 the action worked but answered an error_code (INVALID_INPUT
 * included); 1 a step failed, or the input fails the action's input
 * contract, so Genesys would not call (it says which); 2 bad arguments, or an
 * input the action does not have.
 */

import { parseArgs } from "node:util";
import ajvDraft04 from "ajv-draft-04";
import {
  actionFileName,
  type ActionName,
  customAuthAction,
  LOCATION_KINDS,
  PLACE_KINDS,
  type PlaceKind,
  SERVICE_URL_PLACEHOLDER,
} from "../tools/genesys/actions.ts";
import { TOKEN_PATH } from "../src/oauth/documents.ts";
import { jsonPath, renderTemplate } from "../tools/genesys/template.ts";

interface Contract {
  input: { inputSchema: { properties: Record<string, { type: string }> } };
  output: { successSchema: { properties: Record<string, unknown> } };
}

interface ActionDefinition {
  name?: string;
  config: {
    request: {
      requestUrlTemplate: string;
      requestType: string;
      headers: Record<string, string>;
      requestTemplate: string;
    };
    response: { translationMap: Record<string, string>; successTemplate: string };
    timeoutSeconds?: number;
  };
  contract?: Contract;
}

const encoder = new TextEncoder();
const say = (line = "") => Deno.stdout.writeSync(encoder.encode(line + "\n"));
class StepFailed extends Error {}
/** The command line asks for something Genesys could not do: exit code 2. */
class UsageError extends Error {}

const read = (path: string): ActionDefinition =>
  JSON.parse(Deno.readTextFileSync(new URL(`../genesys/actions/${path}`, import.meta.url)));
const Ajv = ajvDraft04 as unknown as typeof ajvDraft04.default;
const ajv = new Ajv({ allErrors: true, strict: false });

/** Each input option, and the action input it sets, in the order the input lists them. */
const INPUT_OPTIONS = {
  city: "city_name",
  "postal-code": "postal_code",
  country: "country_code",
  latitude: "latitude",
  longitude: "longitude",
  units: "units",
  lang: "lang",
} as const;
type InputOption = keyof typeof INPUT_OPTIONS;

/** The options that name each kind of place, to tell which action is meant. */
const PLACE_OPTIONS: Record<PlaceKind, InputOption[]> = {
  city: ["city"],
  postal_code: ["postal-code"],
  coordinates: ["latitude", "longitude"],
};

function parse() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      city: { type: "string" },
      country: { type: "string" },
      "postal-code": { type: "string" },
      latitude: { type: "string" },
      longitude: { type: "string" },
      units: { type: "string" },
      lang: { type: "string" },
      kind: { type: "string" },
      action: { type: "string" },
      forecast: { type: "boolean", default: false },
      "credential-type": { type: "string" },
      "token-url": { type: "string" },
      scope: { type: "string" },
      audience: { type: "string" },
      "credentials-from-env": { type: "boolean", default: false },
    },
  });
  if (!values.url) throw new UsageError("--url is required");
  const inputs: Partial<Record<InputOption, string>> = {};
  for (const option of Object.keys(INPUT_OPTIONS) as InputOption[]) {
    const value = values[option];
    if (value !== undefined) inputs[option] = value;
  }
  const credentialType = values["credential-type"] ??
    (Deno.env.get("OAUTH_CLIENT_ID")
      ? "oauth"
      : Deno.env.get("BASIC_AUTH_USER")
      ? "basic"
      : "none");
  if (!["oauth", "basic", "none"].includes(credentialType)) {
    throw new UsageError("--credential-type must be oauth, basic or none");
  }
  if (credentialType !== "none" && !values["credentials-from-env"]) {
    throw new UsageError(
      "Credentials are read from the environment only: pass --credentials-from-env",
    );
  }
  return {
    ...values,
    url: values.url.replace(/\/+$/, ""),
    inputs,
    action: actionChoice(values.kind, values.action, values.forecast, inputs),
    credentialType,
  };
}

/**
 * The action to run: a file, or the weather action (the forecast action with
 * --forecast) for the kind named with --kind, or else for the kind of place given.
 */
function actionChoice(
  kindOption: string | undefined,
  file: string | undefined,
  forecast: boolean,
  inputs: Partial<Record<InputOption, string>>,
): { file: string } | { action: ActionName; kind: PlaceKind } {
  if (file !== undefined) {
    if (kindOption !== undefined) throw new UsageError("Give --kind or --action, not both");
    if (forecast) throw new UsageError("Give --forecast or --action, not both");
    return { file };
  }
  const action: ActionName = forecast ? "forecast" : "weather";
  if (kindOption !== undefined) {
    const kind = PLACE_KINDS.find((kind) =>
      kind === kindOption || LOCATION_KINDS[kind].slug === kindOption
    );
    if (kind === undefined) {
      throw new UsageError(`--kind must be one of ${PLACE_KINDS.join(", ")}`);
    }
    return { action, kind };
  }
  const given = PLACE_KINDS.filter((kind) =>
    PLACE_OPTIONS[kind].some((option) => inputs[option] !== undefined)
  );
  if (given.length === 1) return { action, kind: given[0]! };
  throw new UsageError(
    given.length === 0
      ? "Give a place (--city, --postal-code with --country, or --latitude and --longitude), or the action (--kind, --action)"
      : `Give one kind of place, not ${given.join(" and ")}, or name the action with --kind`,
  );
}

function env(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new StepFailed(`${name} is not set in the environment`);
  return value;
}

/** Genesys's own limit when an action sets none (custom auth actions cannot). */
const GENESYS_DEFAULT_TIMEOUT_S = 60;

async function send(
  step: string,
  url: string,
  init: RequestInit,
  timeoutSeconds = GENESYS_DEFAULT_TIMEOUT_S,
): Promise<{ status: number; body: unknown; text: string }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutSeconds * 1000) });
  } catch (error) {
    if ((error as Error).name === "TimeoutError") {
      throw new StepFailed(
        `${step} failed: no answer within ${timeoutSeconds} s (Architect takes the Timeout path)`,
      );
    }
    throw new StepFailed(
      `${step} failed: ${url} could not be reached (${(error as Error).message})`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

/**
 * The committed custom auth action, or, with --scope / --audience, the one
 * `deno task export-actions` prints for those values (same generator).
 */
function customAuthDefinition(options: Options): ActionDefinition {
  if (options.scope === undefined && options.audience === undefined) {
    return read("custom-auth-action.json");
  }
  return customAuthAction({
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
}

/** Step 1 for User Defined (OAuth): the custom auth action, then Genesys's response mapping. */
async function customAuth(
  tokenUrl: string,
  definition: ActionDefinition,
): Promise<Record<string, unknown>> {
  const { request, response } = definition.config;
  const context = {
    credentials: {
      loginUrl: tokenUrl,
      clientId: env("OAUTH_CLIENT_ID"),
      clientSecret: env("OAUTH_CLIENT_SECRET"),
    },
  };
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([k, v]) => [k, renderTemplate(v, context)]),
  );
  const answer = await send(
    "Step 1 (custom auth action)",
    renderTemplate(request.requestUrlTemplate, context),
    {
      method: request.requestType,
      headers,
      body: renderTemplate(request.requestTemplate, context),
    },
  );
  if (answer.status !== 200) {
    const { error, error_description } = (answer.body ?? {}) as Record<string, string>;
    throw new StepFailed(
      `Step 1 (custom auth action) failed: HTTP ${answer.status} ${error ?? ""} ${
        error_description ?? answer.text
      }`.trim(),
    );
  }
  const authResponse = mapResponse(response, answer.body);
  say(`Step 1 (custom auth action): got a token (${String(authResponse.token).length} characters)`);
  return authResponse;
}

/** Genesys's response mapping: the translation map's JSONPaths, then the success template. */
function mapResponse(
  response: ActionDefinition["config"]["response"],
  body: unknown,
): Record<string, unknown> {
  const mapped = Object.fromEntries(
    Object.entries(response.translationMap).map(([name, path]) => [name, jsonPath(body, path)]),
  );
  if (Object.values(mapped).some((value) => value === undefined)) {
    throw new StepFailed(
      "Step 1 (custom auth action) failed: the response has no access_token to map",
    );
  }
  // Genesys puts translation map values into the success template as JSON values.
  const asJson = Object.fromEntries(
    Object.entries(mapped).map(([name, value]) => [name, JSON.stringify(value)]),
  );
  return JSON.parse(renderTemplate(response.successTemplate, asJson));
}

const USAGE = "Usage: deno task invoke --url URL " +
  "(--city NAME [--country CC] | --postal-code CODE --country CC | --latitude=DEG --longitude=DEG) " +
  "[--units U] [--lang L] [--forecast] [--kind city|postal_code|coordinates | --action FILE] " +
  "[--credential-type oauth|basic|none] [--token-url URL] [--scope SCOPE] [--audience AUDIENCE] " +
  "--credentials-from-env";

type Options = ReturnType<typeof parse>;

/**
 * The action's input as Architect would send it: only inputs the action has,
 * a number where its input is a number; then checked against the input
 * contract, as Genesys does before it calls.
 */
function actionInput(
  options: Options,
  definition: ActionDefinition,
): Record<string, string | number> {
  const { inputSchema } = definition.contract!.input;
  const input: Record<string, string | number> = {};
  for (const [option, text] of Object.entries(options.inputs) as [InputOption, string][]) {
    const name = INPUT_OPTIONS[option];
    const property = inputSchema.properties[name];
    if (property === undefined) {
      throw new UsageError(
        `--${option} is not an input of "${definition.name}": its inputs are ${
          Object.keys(inputSchema.properties).join(", ")
        }`,
      );
    }
    const number = Number(text);
    const numeric = ["number", "integer"].includes(property.type) && text.trim() !== "" &&
      Number.isFinite(number);
    input[name] = numeric ? number : text;
  }
  const validateInput = ajv.compile(inputSchema);
  if (!validateInput(input)) {
    throw new StepFailed(
      `The input does not match the input contract: ${ajv.errorsText(validateInput.errors)}`,
    );
  }
  return input;
}

/** The headers Genesys sends: its own Basic header for Basic Auth, then the action's templates. */
async function actionHeaders(
  options: Options,
  request: ActionDefinition["config"]["request"],
  context: Record<string, unknown>,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  if (options.credentialType === "oauth") {
    const tokenUrl = options["token-url"] ?? `${options.url}${TOKEN_PATH}`;
    context.authResponse = await customAuth(tokenUrl, customAuthDefinition(options));
  } else if (options.credentialType === "basic") {
    // Genesys adds this header itself for the Basic Auth credential type.
    headers.Authorization = `Basic ${
      btoa(`${env("BASIC_AUTH_USER")}:${env("BASIC_AUTH_PASSWORD")}`)
    }`;
  }
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = renderTemplate(value, context);
  }
  return headers;
}

/** Steps 1 and 2: the custom auth action if any, then the action's request; its answer text. */
async function callAction(
  options: Options,
  definition: ActionDefinition,
  input: Record<string, string | number>,
): Promise<string> {
  const { request } = definition.config;
  const context: Record<string, unknown> = {
    input: { ...input, rawRequest: JSON.stringify(input) },
  };
  const headers = await actionHeaders(options, request, context);
  const url = renderTemplate(request.requestUrlTemplate, context).replace(
    SERVICE_URL_PLACEHOLDER,
    options.url,
  );
  const body = renderTemplate(request.requestTemplate, context);
  say(`Step 2 (action request): ${request.requestType} ${url} ${body}`);
  const answer = await send("Step 2 (action request)", url, {
    method: request.requestType,
    headers,
    body,
  }, definition.config.timeoutSeconds);
  if (answer.status < 200 || answer.status > 299) {
    const { error_code, error_message } = (answer.body ?? {}) as Record<string, string>;
    throw new StepFailed(
      `Step 2 (action request) failed: HTTP ${answer.status} ${error_code ?? ""} ${
        error_message ?? answer.text
      }`.trim(),
    );
  }
  say(`Step 2 (action request): HTTP ${answer.status}`);
  return answer.text;
}

/** Step 3: the success template and the output contract; then what the flow sees. Exit code. */
function report(definition: ActionDefinition, answerText: string): number {
  const { response } = definition.config;
  const contract = definition.contract!;
  const result: Record<string, unknown> = JSON.parse(
    renderTemplate(response.successTemplate, { rawResult: answerText }),
  );
  const validateOutput = ajv.compile(contract.output.successSchema);
  if (!validateOutput(result)) {
    throw new StepFailed(
      `Step 3 (output contract) failed: ${ajv.errorsText(validateOutput.errors)}`,
    );
  }
  say("Step 3 (output contract): the answer matches the success schema");
  say();
  say("What the flow sees:");
  const fields = Object.keys(contract.output.successSchema.properties);
  for (const field of fields) {
    say(`  ${field} = ${field in result ? JSON.stringify(result[field]) : "NOT_SET"}`);
  }
  const unknown = Object.keys(result).filter((field) => !fields.includes(field));
  if (unknown.length > 0) {
    say(`Fields Architect cannot map (not in the contract): ${unknown.join(", ")}`);
  }
  if (typeof result.error_code === "string") {
    say(
      `\nThe action succeeded, but with error_code ${result.error_code}: branch on it in Architect.`,
    );
    return 3;
  }
  return 0;
}

/** The definition to run, and where it comes from. */
function actionDefinition(options: Options): ActionDefinition {
  const choice = options.action;
  let definition: ActionDefinition;
  if ("file" in choice) {
    try {
      definition = JSON.parse(Deno.readTextFileSync(choice.file));
    } catch (error) {
      throw new UsageError(`--action ${choice.file}: ${(error as Error).message}`);
    }
    if (definition.contract === undefined) {
      throw new UsageError(`--action ${choice.file} is not a Data Action: it has no contract`);
    }
  } else {
    const credentialType = options.credentialType === "oauth" ? "user-defined-oauth" : "basic-auth";
    definition = read(actionFileName(choice.action, choice.kind, credentialType));
  }
  say(`Action: ${definition.name ?? "(no name)"}`);
  return definition;
}

async function main(): Promise<number> {
  let options: Options;
  let definition: ActionDefinition;
  let input: Record<string, string | number>;
  try {
    options = parse();
    definition = actionDefinition(options);
    input = actionInput(options, definition);
  } catch (error) {
    // parseArgs throws a TypeError for an unknown option or a missing value.
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    say(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  return report(definition, await callAction(options, definition, input));
}

try {
  Deno.exit(await main());
} catch (error) {
  if (
    !(error instanceof StepFailed) && !(error instanceof Error && error.name === "TemplateError")
  ) throw error;
  say(error.message);
  Deno.exit(1);
}
