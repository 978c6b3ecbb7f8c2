/**
 * The Genesys definitions of the service, generated from its contract: for
 * each of the service's actions (the current weather, the forecast), one
 * Data Action per kind of place (city, postal code, coordinates) and
 * credential type, as Genesys exports and imports them; the custom auth
 * action for User Defined (OAuth), and the error response schema. The
 * Terraform module (terraform.ts) is built from these same objects.
 */

import type { z } from "zod";
import {
  ActionFailureSchema,
  type ContractField,
  contractFields,
  ForecastReportSchema,
  RequestFieldsSchema,
  WeatherReportSchema,
} from "../contract_schema.ts";
import { FORECAST_PATH, WEATHER_PATH } from "../../src/edge/handler.ts";
import { REQUEST_ERRORS } from "../../src/http/errors.ts";
import { TOKEN_PATH } from "../../src/oauth/documents.ts";
import { type ActionName, ACTIONS, REQUEST_FIELDS } from "../../src/weather/contract.ts";
import { PLACE_KINDS, type PlaceKind } from "../../src/weather/place.ts";
import type { ActionConfig } from "./action_definition.ts";
import type { JsonSchemaObject } from "./rules.ts";

export { type ActionConfig, type ActionName, ACTIONS, PLACE_KINDS, type PlaceKind };

/** Replace with the service's external URL (its PUBLIC_URL) before importing. */
export const SERVICE_URL_PLACEHOLDER = "https://YOUR-SERVICE-HOST";

/** One of the service's actions, as Genesys gets it: one Data Action per kind of place. */
export interface ServiceAction {
  /** The common name of its Data Actions; each adds its kind of place ("... by city"). */
  name: string;
  /** The service's route, after SERVICE_URL_PLACEHOLDER. */
  path: string;
  /** What a successful answer carries. */
  report: z.ZodObject;
  /** Its files' names begin with this: <stem>-by-<slug>.<credential type>.json. */
  stem: string;
  /** The input schema's title begins with this ("... by city"). */
  requestTitle: string;
  /** The output schema's title and description. */
  answerTitle: string;
  answerDescription: string;
}

/**
 * The service's actions (ACTIONS, as metrics and logs name them). Both take
 * the same request, so they have the same inputs for each kind of place;
 * only the route and the answer differ.
 */
export const SERVICE_ACTIONS = {
  weather: {
    name: "Get current weather",
    path: WEATHER_PATH,
    report: WeatherReportSchema,
    stem: "get-current-weather",
    requestTitle: "Weather request",
    answerTitle: "Weather answer",
    answerDescription: "Current weather, or error_code and error_message when there is none",
  },
  forecast: {
    name: "Get weather forecast",
    path: FORECAST_PATH,
    report: ForecastReportSchema,
    stem: "get-weather-forecast",
    requestTitle: "Forecast request",
    answerTitle: "Forecast answer",
    answerDescription:
      "The next hours, today and tomorrow, or error_code and error_message when there is no forecast",
  },
} as const satisfies Record<ActionName, ServiceAction>;

type RequestField = typeof REQUEST_FIELDS[number];

/** One kind of place an action asks about, in the form a flow has it. */
export interface LocationKind {
  /** What the action's name ends with: "Get current weather <label>". */
  label: string;
  /** Its file name's part: <stem>-by-<slug>.<credential type>.json. */
  slug: string;
  /** What the input schema says the action is for. */
  description: string;
  /** The request fields that name the place; the action has these and ANSWER_INPUTS. */
  inputs: readonly RequestField[];
  /** The inputs Genesys checks are there before it calls (the schema's `required`). */
  required: readonly RequestField[];
}

/**
 * One action per kind of place the contract knows (PLACE_KINDS), so that each
 * action's `required` lets Genesys refuse an incomplete request before it
 * calls, and Architect offers only the inputs that make sense together. The
 * fields' types and descriptions come from RequestFieldsSchema.
 */
export const LOCATION_KINDS = {
  city: {
    label: "by city",
    slug: "city",
    description: "A city's name, as a caller says it, and how to answer",
    inputs: ["city_name", "country_code"],
    required: ["city_name"],
  },
  postal_code: {
    label: "by postal code",
    slug: "postal-code",
    description: "A postal code and its country, as a caller keys them in, and how to answer",
    inputs: ["postal_code", "country_code"],
    required: ["postal_code", "country_code"],
  },
  coordinates: {
    label: "by coordinates",
    slug: "coordinates",
    description: "Coordinates, as a CRM holds them, and how to answer",
    inputs: ["latitude", "longitude"],
    required: ["latitude", "longitude"],
  },
} as const satisfies Record<PlaceKind, LocationKind>;

/** The inputs of every action: how to answer, not where. */
export const ANSWER_INPUTS = ["units", "lang"] as const satisfies readonly RequestField[];

/** The request fields no action offers: a field added to the contract must be placed. */
export function fieldsInNoAction(): string[] {
  const offered = new Set<string>([
    ...ANSWER_INPUTS,
    ...PLACE_KINDS.flatMap((kind) => LOCATION_KINDS[kind].inputs),
  ]);
  return REQUEST_FIELDS.filter((name) => !offered.has(name));
}
/**
 * The one action timeout, in both the import JSON (`config.timeoutSeconds`)
 * and the Terraform (`config_timeout_seconds`). Genesys allows 1 to 60 s and
 * defaults to 60, which holds an IVR caller for a minute. The service answers
 * within REQUEST_DEADLINE_MS (5 s by default) even when OpenWeatherMap hangs,
 * so 8 s leaves 3 s for the network, TLS and Genesys's own work: the service's
 * UPSTREAM_TIMEOUT answer (Success path) arrives before Genesys gives up
 * (Timeout path). Raise it with REQUEST_DEADLINE_MS, never below it.
 */
export const ACTION_TIMEOUT_S = 8;
/** The REQUEST_DEADLINE_MS default that ACTION_TIMEOUT_S is chosen against (a test checks it). */
export const SERVICE_DEADLINE_MS = 5000;

const DRAFT_04 = "http://json-schema.org/draft-04/schema#";

/** An answer schema's properties as Genesys wants them: type and description, nothing it may reject. */
function outputProperties(schema: z.ZodObject) {
  return Object.fromEntries(
    contractFields(schema, "output").map(({ name, type, description }) => [
      name,
      { type, description },
    ]),
  );
}

/**
 * An input field's one JSON Schema type. Genesys takes exactly one per field;
 * the service also reads a number sent as text (a coordinate in participant
 * data, say), but the action says "number": Architect then passes a Decimal,
 * and a flow converts text with ToDecimal() first.
 */
function genesysInputType(field: ContractField): string {
  if (field.type === "number or string") return "number";
  if (field.type.includes(" or ")) {
    throw new Error(`Input "${field.name}" has no one Genesys type: ${field.type}`);
  }
  return field.type;
}

/**
 * The input schema of the action for one kind of place: its inputs, then
 * ANSWER_INPUTS, each with the type and description RequestFieldsSchema gives.
 */
export function inputSchema(
  action: ActionName,
  kind: PlaceKind,
): JsonSchemaObject & Record<string, unknown> {
  const { inputs, required, description, label } = LOCATION_KINDS[kind];
  const contract = new Map(
    contractFields(RequestFieldsSchema, "input").map((field) => [field.name, field]),
  );
  const fields = [...inputs, ...ANSWER_INPUTS].map((name) => {
    const field = contract.get(name);
    if (field === undefined) throw new Error(`"${name}" is not a field of RequestFieldsSchema`);
    return field;
  });
  return {
    $schema: DRAFT_04,
    title: `${SERVICE_ACTIONS[action].requestTitle} ${label}`,
    description,
    type: "object",
    required: [...required],
    properties: Object.fromEntries(
      fields.map((field) => [
        field.name,
        { type: genesysInputType(field), description: field.description },
      ]),
    ),
    additionalProperties: true,
  };
}

/**
 * One flat object for every 200 answer of an action, the same for each kind
 * of place: the action's fields on success, the error fields for an input the
 * service cannot use (INVALID_INPUT) or upstream trouble. Nothing is
 * required, because each answer has only one of the two sets; the fields it
 * lacks arrive as NOT_SET.
 */
export function successSchema(action: ActionName): JsonSchemaObject & Record<string, unknown> {
  const { report, answerTitle, answerDescription } = SERVICE_ACTIONS[action];
  return {
    $schema: DRAFT_04,
    title: answerTitle,
    description: answerDescription,
    type: "object",
    // No "required": each answer has only one of the two sets (and draft-04 forbids an empty list).
    properties: {
      ...outputProperties(report),
      ...outputProperties(ActionFailureSchema),
    },
    additionalProperties: true,
  };
}

/** The body of every non-2xx answer of every action. */
export function errorResponseSchema(): Record<string, unknown> {
  return {
    $schema: DRAFT_04,
    title: "Error response",
    description: `Every HTTP error of ${
      ACTIONS.map((action) => `POST ${SERVICE_ACTIONS[action].path}`).join(" and ")
    }`,
    type: "object",
    required: ["error_code", "error_message"],
    properties: {
      error_code: {
        type: "string",
        enum: Object.keys(REQUEST_ERRORS),
        description: "Machine-readable reason",
      },
      error_message: {
        type: "string",
        description: "Short reason, e.g. why the body is not a JSON object",
      },
    },
    additionalProperties: false,
  };
}

export type CredentialType = "basic-auth" | "user-defined-oauth";
export const CREDENTIAL_TYPES: readonly CredentialType[] = ["basic-auth", "user-defined-oauth"];

/** The file an action is exported to, under genesys/actions/. */
export function actionFileName(
  action: ActionName,
  kind: PlaceKind,
  credentialType: CredentialType,
): string {
  return `${SERVICE_ACTIONS[action].stem}-by-${LOCATION_KINDS[kind].slug}.${credentialType}.json`;
}

/** The committed file of an action, for invoke and the demo to run as an admin would import it. */
export function committedActionUrl(
  action: ActionName,
  kind: PlaceKind,
  credentialType: CredentialType,
): URL {
  return new URL(
    `../../genesys/actions/${actionFileName(action, kind, credentialType)}`,
    import.meta.url,
  );
}

/** An action's name in Genesys, e.g. "Get weather forecast by postal code". */
export function actionName(action: ActionName, kind: PlaceKind): string {
  return `${SERVICE_ACTIONS[action].name} ${LOCATION_KINDS[kind].label}`;
}

export interface DataAction {
  name: string;
  integrationType: string;
  actionType: string;
  config: ActionConfig & { timeoutSeconds: number };
  contract: {
    input: { inputSchema: JsonSchemaObject & Record<string, unknown> };
    output: { successSchema: JsonSchemaObject & Record<string, unknown> };
  };
  secure: boolean;
}

export interface CustomAuthAction {
  name: string;
  config: ActionConfig;
  credentialFields: Record<string, string>;
}

/**
 * The Data Action of one of the service's actions for one kind of place, as
 * Genesys exports and imports it. Only its name and input schema depend on
 * the kind: each sends its input as it is to its action's endpoint, and every
 * answer of that action has the same schema.
 */
export function dataAction(
  action: ActionName,
  kind: PlaceKind,
  credentialType: CredentialType,
): DataAction {
  return {
    name: actionName(action, kind),
    integrationType: "custom-rest-actions",
    actionType: "custom",
    config: {
      request: {
        requestUrlTemplate: SERVICE_URL_PLACEHOLDER + SERVICE_ACTIONS[action].path,
        requestType: "POST",
        headers: {
          "Content-Type": "application/json",
          // With Basic Auth, Genesys adds the Authorization header from the integration's credentials.
          ...(credentialType === "user-defined-oauth"
            ? { Authorization: "Bearer ${authResponse.token}" }
            : {}),
        },
        requestTemplate: "${input.rawRequest}",
      },
      response: {
        translationMap: {},
        translationMapDefaults: {},
        successTemplate: "${rawResult}",
      },
      timeoutSeconds: ACTION_TIMEOUT_S,
    },
    contract: {
      input: { inputSchema: inputSchema(action, kind) },
      output: { successSchema: successSchema(action) },
    },
    secure: false,
  };
}

/** Every action, by the service's action and the kind of place, for one credential type. */
export type ActionsByKind = Record<ActionName, Record<PlaceKind, DataAction>>;

/** Every action for every kind of place, for one credential type. */
export function actionsFor(credentialType: CredentialType): ActionsByKind {
  const byKind = (action: ActionName) =>
    Object.fromEntries(
      PLACE_KINDS.map((kind) => [kind, dataAction(action, kind, credentialType)]),
    ) as Record<PlaceKind, DataAction>;
  return Object.fromEntries(ACTIONS.map((action) => [action, byKind(action)])) as ActionsByKind;
}

/**
 * Extra parameters of the token request, for identity providers that need
 * them: Entra's `scope=api://<app-id>/.default`, Auth0's `audience`, an Okta
 * custom authorization server's scope.
 */
export interface TokenRequestOptions {
  scope?: string;
  audience?: string;
}

/**
 * Form encoding as Terraform's urlencode() (Go's url.QueryEscape) does it, so
 * the import JSON and the Terraform send the same bytes: only A-Z a-z 0-9 - _ . ~
 * stay as they are, a space becomes "+". Percent-encoding also keeps `$` and `#`
 * away from Genesys's Velocity engine.
 */
export function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
    .replaceAll("%20", "+");
}

/** The custom auth action's request body: client credentials, then scope and audience if given. */
export function tokenRequestBody(options: TokenRequestOptions = {}): string {
  const parameters: [string, string | undefined][] = [
    ["grant_type", "client_credentials"],
    ["scope", options.scope],
    ["audience", options.audience],
  ];
  return parameters
    .filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== "")
    .map(([name, value]) => `${name}=${formEncode(value)}`)
    .join("&");
}

/**
 * The custom auth action Genesys runs for User Defined (OAuth): client
 * credentials against `credentials.loginUrl` (the service's /oauth/token or
 * an identity provider's token URL). It has no timeout of its own: Genesys
 * refuses one on custom auth actions.
 */
export function customAuthAction(options: TokenRequestOptions = {}): CustomAuthAction {
  return {
    // The integration's one, for every action; named as when the weather action was the only one.
    name: `${SERVICE_ACTIONS.weather.name} (custom auth)`,
    config: {
      request: {
        requestUrlTemplate: "${credentials.loginUrl}",
        requestType: "POST",
        headers: {
          Authorization:
            'Basic $encoding.base64("${credentials.clientId}:${credentials.clientSecret}")',
          "Content-Type": "application/x-www-form-urlencoded",
        },
        requestTemplate: tokenRequestBody(options),
      },
      response: {
        translationMap: { tokenValue: "$.access_token" },
        translationMapDefaults: {},
        successTemplate: '{ "token": ${tokenValue} }',
      },
    },
    credentialFields: {
      loginUrl: SERVICE_URL_PLACEHOLDER + TOKEN_PATH,
      clientId: "(OAUTH_CLIENT_ID)",
      clientSecret: "(OAUTH_CLIENT_SECRET)",
    },
  };
}
