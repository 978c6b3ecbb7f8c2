/**
 * `deno task invoke`: runs a Data Action against a service as Genesys
 * Cloud's executor does (tools/genesys/executor.ts), and prints what the flow
 * sees.
 *
 *   deno task invoke --url https://weather.example.com \
 *     (--city London [--country GB] | --postal-code "SW1A 1AA" --country GB |
 *      --latitude 51.51 --longitude=-0.13 | --input '{"city_name":"London"}') \
 *     [--units metric] [--lang en-us] \
 *     [--forecast] [--kind city|postal_code|coordinates | --action FILE] \
 *     [--credential-type oauth|basic|none] [--token-url URL] \
 *     [--scope SCOPE] [--audience AUDIENCE] [--org-id ID] --credentials-from-env
 *
 * It runs one action: the weather action (with --forecast, the forecast
 * action) from genesys/actions/ for the kind of place given (or named by
 * --kind) and the credential type; or any action definition in FILE, such
 * as one an admin edited in Genesys and exported. The input is --input (a
 * JSON object, as Architect passes it) or the place options, each of which
 * sets the input of that name, and only an input the action has; numbers go
 * as JSON numbers where the action's input is a number. A value that starts
 * with "-" is written `--longitude=-0.13`.
 *
 * Credentials come from the environment only (never the command line), and
 * may hold any character: OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET for oauth,
 * BASIC_AUTH_USER / BASIC_AUTH_PASSWORD for basic. --scope and --audience
 * add those parameters to the token request, as `deno task export-actions
 * --scope ...` does for an identity provider. --org-id (or GENESYS_ORG_ID)
 * is the ININ-Organization-Id to send, which GENESYS_ORG_IDS checks.
 *
 * Exit codes: 0 the Success path with the weather (or the forecast); 3 the
 * Success path with an error_code (INVALID_INPUT included); 1 the Failure or
 * Timeout path, or an input that breaks the input contract, so Genesys would
 * not call (it says which); 2 bad arguments, or an input the action does not
 * have.
 */

import { parseArgs } from "node:util";
import { type ActionDefinition, readActionDefinition } from "../tools/genesys/action_definition.ts";
import {
  type ActionName,
  committedActionUrl,
  customAuthAction,
  LOCATION_KINDS,
  PLACE_KINDS,
  type PlaceKind,
} from "../tools/genesys/actions.ts";
import {
  type ActionInput,
  createExecutor,
  type Credentials,
  type Execution,
} from "../tools/genesys/executor.ts";
import { TOKEN_PATH } from "../src/oauth/documents.ts";

const encoder = new TextEncoder();
const say = (line = "") => Deno.stdout.writeSync(encoder.encode(line + "\n"));

/** The command line asks for something Genesys could not do: exit code 2. */
class UsageError extends Error {}

/** A made-up organisation id, sent when none is given; a service with GENESYS_ORG_IDS refuses it. */
const DEFAULT_ORGANIZATION_ID = "00000000-0000-4000-8000-000000000000";

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

const USAGE = "Usage: deno task invoke --url URL " +
  "(--city NAME [--country CC] | --postal-code CODE --country CC | --latitude=DEG --longitude=DEG " +
  "| --input JSON) [--units U] [--lang L] [--forecast] " +
  "[--kind city|postal_code|coordinates | --action FILE] " +
  "[--credential-type oauth|basic|none] [--token-url URL] [--scope SCOPE] [--audience AUDIENCE] " +
  "[--org-id ID] --credentials-from-env";

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
      input: { type: "string" },
      kind: { type: "string" },
      action: { type: "string" },
      forecast: { type: "boolean", default: false },
      "credential-type": { type: "string" },
      "token-url": { type: "string" },
      scope: { type: "string" },
      audience: { type: "string" },
      "org-id": { type: "string" },
      "credentials-from-env": { type: "boolean", default: false },
    },
  });
  if (!values.url) throw new UsageError("--url is required");
  const options: Partial<Record<InputOption, string>> = {};
  for (const option of Object.keys(INPUT_OPTIONS) as InputOption[]) {
    const value = values[option];
    if (value !== undefined) options[option] = value;
  }
  const credentialType = values["credential-type"] ??
    (Deno.env.get("OAUTH_CLIENT_ID")
      ? "oauth"
      : Deno.env.get("BASIC_AUTH_USER")
      ? "basic"
      : "none");
  if (credentialType !== "oauth" && credentialType !== "basic" && credentialType !== "none") {
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
    options,
    input: values.input === undefined ? undefined : inputObject(values.input),
    action: actionChoice(values.kind, values.action, values.forecast, options),
    credentialType,
  } as const;
}

type Options = ReturnType<typeof parse>;

/** --input: a JSON object of strings, numbers and booleans, as Architect passes inputs. */
function inputObject(text: string): ActionInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--input is not JSON: ${text}`);
  }
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    Object.values(value).some((item) => !["string", "number", "boolean"].includes(typeof item))
  ) {
    throw new UsageError("--input must be a JSON object of strings, numbers and booleans");
  }
  return value as ActionInput;
}

/**
 * The action to run: a file, or the weather action (the forecast action with
 * --forecast) for the kind named with --kind, or else for the kind of place given.
 */
function actionChoice(
  kindOption: string | undefined,
  file: string | undefined,
  forecast: boolean,
  options: Partial<Record<InputOption, string>>,
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
    PLACE_OPTIONS[kind].some((option) => options[option] !== undefined)
  );
  if (given.length === 1) return { action, kind: given[0]! };
  throw new UsageError(
    given.length === 0
      ? "Give a place (--city, --postal-code with --country, or --latitude and --longitude), or the action (--kind, --action)"
      : `Give one kind of place, not ${given.join(" and ")}, or name the action with --kind`,
  );
}

/** The definition to run: the file given, or the committed one for the choice. */
function actionDefinition(options: Options): ActionDefinition {
  const choice = options.action;
  const path = "file" in choice ? choice.file : committedActionUrl(
    choice.action,
    choice.kind,
    options.credentialType === "oauth" ? "user-defined-oauth" : "basic-auth",
  );
  const read = readActionDefinition(path);
  if (!read.ok) throw new UsageError(`--action ${path}: ${read.message}`);
  return read.definition;
}

/**
 * The action's input as Architect would send it: --input, or only the
 * inputs the action has from the options, a number where its input is a number.
 */
function actionInput(options: Options, definition: ActionDefinition): ActionInput {
  if (options.input !== undefined) {
    if (Object.keys(options.options).length > 0) {
      throw new UsageError("Give --input or the place options, not both");
    }
    return options.input;
  }
  const properties = (definition.contract.input.inputSchema.properties ?? {}) as Record<
    string,
    { type?: string }
  >;
  const input: ActionInput = {};
  for (const [option, text] of Object.entries(options.options) as [InputOption, string][]) {
    const name = INPUT_OPTIONS[option];
    const property = properties[name];
    if (property === undefined) {
      throw new UsageError(
        `--${option} is not an input of "${definition.name}": its inputs are ${
          Object.keys(properties).join(", ")
        }`,
      );
    }
    const number = Number(text);
    const numeric = ["number", "integer"].includes(property.type ?? "") && text.trim() !== "" &&
      Number.isFinite(number);
    input[name] = numeric ? number : text;
  }
  return input;
}

function env(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new UsageError(`${name} is not set in the environment`);
  return value;
}

/**
 * The integration's credentials: for oauth, the custom auth action from the
 * generator that wrote the committed one (a test holds them equal), with
 * --scope / --audience as `deno task export-actions` prints it for them.
 */
function credentials(options: Options): Credentials {
  if (options.credentialType === "basic") {
    return { type: "basic", user: env("BASIC_AUTH_USER"), password: env("BASIC_AUTH_PASSWORD") };
  }
  if (options.credentialType === "none") return { type: "none" };
  return {
    type: "oauth",
    customAuth: customAuthAction({
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    }),
    fields: {
      loginUrl: options["token-url"] ?? `${options.url}${TOKEN_PATH}`,
      clientId: env("OAUTH_CLIENT_ID"),
      clientSecret: env("OAUTH_CLIENT_SECRET"),
    },
  };
}

/** What the flow sees, field by field in the contract's order; the exit code. */
function show(definition: ActionDefinition, execution: Execution): number {
  if (execution.path !== "success") {
    say(execution.message);
    say(`\nArchitect takes the ${execution.path === "timeout" ? "Timeout" : "Failure"} path.`);
    return 1;
  }
  const { output, notInContract } = execution;
  say();
  say("What the flow sees:");
  const fields = Object.keys(
    (definition.contract.output.successSchema.properties ?? {}) as Record<string, unknown>,
  );
  for (const field of fields) {
    say(`  ${field} = ${field in output ? JSON.stringify(output[field]) : "NOT_SET"}`);
  }
  if (notInContract.length > 0) {
    say(`Fields Architect cannot map (not in the contract): ${notInContract.join(", ")}`);
  }
  if (typeof output.error_code === "string") {
    say(
      `\nThe action succeeded, but with error_code ${output.error_code}: branch on it in Architect.`,
    );
    return 3;
  }
  return 0;
}

async function main(): Promise<number> {
  let options: Options;
  let definition: ActionDefinition;
  let input: ActionInput;
  let integration: Credentials;
  try {
    options = parse();
    definition = actionDefinition(options);
    input = actionInput(options, definition);
    integration = credentials(options);
  } catch (error) {
    // parseArgs throws a TypeError for an unknown option or a missing value.
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    say(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  say(`Action: ${definition.name ?? "(no name)"}`);
  const executor = createExecutor({
    serviceUrl: options.url,
    credentials: integration,
    organizationId: options["org-id"] ?? Deno.env.get("GENESYS_ORG_ID") ?? DEFAULT_ORGANIZATION_ID,
    report: say,
  });
  return show(definition, await executor.execute(definition, input));
}

Deno.exit(await main());
