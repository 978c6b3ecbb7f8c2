/**
 * The Genesys definitions of the service, generated from its contract: the
 * Data Action (one per credential type) as Genesys exports and imports it, the
 * custom auth action for User Defined (OAuth), and the error response schema.
 * The Terraform module (terraform.ts) is built from these same objects.
 */

import type { z } from "zod";
import {
  ActionFailureSchema,
  contractFields,
  RequestFieldsSchema,
  WeatherReportSchema,
} from "../contract_schema.ts";
import { WEATHER_PATH } from "../../src/edge/handler.ts";
import { REQUEST_ERRORS } from "../../src/http/errors.ts";
import { TOKEN_PATH } from "../../src/oauth/documents.ts";
import type { JsonSchemaObject } from "./rules.ts";

/** Replace with the service's external URL (its PUBLIC_URL) before importing. */
export const SERVICE_URL_PLACEHOLDER = "https://YOUR-SERVICE-HOST";
export const ACTION_NAME = "Get current weather";
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

/** A contract schema's properties as Genesys wants them: type and description, nothing it may reject. */
function genesysProperties(schema: z.ZodObject, io: "input" | "output") {
  const fields = contractFields(schema, io);
  return {
    properties: Object.fromEntries(
      fields.map(({ name, type, description }) => [name, { type, description }]),
    ),
    required: fields.filter((field) => field.required).map((field) => field.name),
  };
}

export function inputSchema(): JsonSchemaObject & Record<string, unknown> {
  const { properties, required } = genesysProperties(RequestFieldsSchema, "input");
  return {
    $schema: DRAFT_04,
    title: "Weather request",
    description: "The place to report on, and how",
    type: "object",
    ...(required.length > 0 ? { required } : {}),
    properties,
    additionalProperties: true,
  };
}

/**
 * One flat object for every 200 answer: the weather fields on success, the
 * error fields on upstream trouble. Nothing is required, because each answer
 * has only one of the two sets; the fields it lacks arrive as NOT_SET.
 */
export function successSchema(): JsonSchemaObject & Record<string, unknown> {
  const report = genesysProperties(WeatherReportSchema, "output");
  const failure = genesysProperties(ActionFailureSchema, "output");
  return {
    $schema: DRAFT_04,
    title: "Weather answer",
    description: "Current weather, or error_code and error_message when there is none",
    type: "object",
    // No "required": each answer has only one of the two sets (and draft-04 forbids an empty list).
    properties: { ...report.properties, ...failure.properties },
    additionalProperties: true,
  };
}

/** The body of every non-2xx answer of the weather action. */
export function errorResponseSchema(): Record<string, unknown> {
  return {
    $schema: DRAFT_04,
    title: "Error response",
    description: "Every HTTP error of POST /data-action/weather",
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

/** A request and response configuration, as Genesys exports it. */
export interface ActionConfig {
  request: {
    requestUrlTemplate: string;
    requestType: string;
    headers: Record<string, string>;
    requestTemplate: string;
  };
  response: {
    translationMap: Record<string, string>;
    translationMapDefaults: Record<string, string>;
    successTemplate: string;
  };
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

/** The Data Action as Genesys exports and imports it. */
export function dataAction(credentialType: CredentialType): DataAction {
  return {
    name: ACTION_NAME,
    integrationType: "custom-rest-actions",
    actionType: "custom",
    config: {
      request: {
        requestUrlTemplate: SERVICE_URL_PLACEHOLDER + WEATHER_PATH,
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
      input: { inputSchema: inputSchema() },
      output: { successSchema: successSchema() },
    },
    secure: false,
  };
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
    name: `${ACTION_NAME} (custom auth)`,
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
