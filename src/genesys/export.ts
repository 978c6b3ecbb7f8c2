/**
 * The Genesys side of the service, generated from its contract: importable
 * Data Action definitions (one per credential type), the custom auth action
 * for User Defined (OAuth), Terraform for CX as Code, and the error
 * response schema. `deno task export-actions` writes them under genesys/;
 * a test fails when the committed files differ from what this produces.
 */

import type { z } from "zod";
import {
  ActionFailureSchema,
  contractFields,
  WeatherReportSchema,
  WeatherRequestSchema,
} from "../weather/contract.ts";
import { REQUEST_ERRORS } from "../http/errors.ts";
import { genesysContractProblems, type JsonSchemaObject } from "./rules.ts";

/** Replace with the service's external URL (its PUBLIC_URL) before importing. */
export const SERVICE_URL_PLACEHOLDER = "https://YOUR-SERVICE-HOST";
export const ACTION_NAME = "Get current weather";
export const WEATHER_PATH = "/data-action/weather";
export const TOKEN_PATH = "/oauth/token";
/** Genesys allows 1 to 60 s; the service answers within REQUEST_DEADLINE_MS (5 s by default). */
export const ACTION_TIMEOUT_S = 10;

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
  const { properties, required } = genesysProperties(WeatherRequestSchema, "input");
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
        description: "Short reason, naming the field for INVALID_INPUT",
      },
    },
    additionalProperties: false,
  };
}

export type CredentialType = "basic-auth" | "user-defined-oauth";

/** The Data Action as Genesys exports and imports it. */
export function dataAction(credentialType: CredentialType): Record<string, unknown> {
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
    },
    contract: {
      input: { inputSchema: inputSchema() },
      output: { successSchema: successSchema() },
    },
    secure: false,
  };
}

/** The custom auth action Genesys runs for User Defined (OAuth): client credentials against /oauth/token. */
export function customAuthAction(): Record<string, unknown> {
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
        requestTemplate: "grant_type=client_credentials",
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

/** Genesys templates use ${...}; Terraform would interpolate them unless written $${...}. */
function forTerraform(template: string): string {
  // A replacer function: in a replacement string, "$$" would mean a single "$".
  return template.replaceAll("${", () => "$${");
}

/** CX as Code: the integration, its User Defined (OAuth) credential, the custom auth action and the action. */
export function terraform(): Record<string, unknown> {
  const action = dataAction("user-defined-oauth") as {
    config: { request: { headers: Record<string, string> } };
    contract: { input: { inputSchema: unknown }; output: { successSchema: unknown } };
  };
  const auth = customAuthAction() as { config: { request: { headers: Record<string, string> } } };
  const headersFor = (headers: Record<string, string>) =>
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, forTerraform(value)]));
  return {
    terraform: {
      required_providers: { genesyscloud: { source: "mypurecloud/genesyscloud" } },
    },
    variable: {
      service_url: {
        type: "string",
        description:
          "The service's external URL (its PUBLIC_URL), e.g. https://weather.example.com",
      },
      oauth_client_id: { type: "string", description: "OAUTH_CLIENT_ID of the service" },
      oauth_client_secret: {
        type: "string",
        sensitive: true,
        description: "OAUTH_CLIENT_SECRET of the service",
      },
    },
    resource: {
      genesyscloud_integration_credential: {
        weather: {
          name: "Weather service (User Defined OAuth)",
          credential_type_name: "userDefinedOAuth",
          fields: {
            loginUrl: "${var.service_url}" + TOKEN_PATH,
            clientId: "${var.oauth_client_id}",
            clientSecret: "${var.oauth_client_secret}",
          },
        },
      },
      genesyscloud_integration: {
        weather: {
          intended_state: "ENABLED",
          integration_type: "custom-rest-actions",
          config: {
            name: "Weather service",
            credentials: { userDefinedOAuth: "${genesyscloud_integration_credential.weather.id}" },
          },
        },
      },
      genesyscloud_integration_custom_auth_action: {
        weather: {
          integration_id: "${genesyscloud_integration.weather.id}",
          name: `${ACTION_NAME} (custom auth)`,
          config_request: {
            request_url_template: forTerraform("${credentials.loginUrl}"),
            request_type: "POST",
            request_template: "grant_type=client_credentials",
            headers: headersFor(auth.config.request.headers),
          },
          config_response: {
            translation_map: { tokenValue: "$.access_token" },
            success_template: forTerraform('{ "token": ${tokenValue} }'),
          },
        },
      },
      genesyscloud_integration_action: {
        weather: {
          name: ACTION_NAME,
          category: "Weather service",
          integration_id: "${genesyscloud_integration.weather.id}",
          secure: false,
          config_timeout_seconds: ACTION_TIMEOUT_S,
          contract_input: JSON.stringify(action.contract.input.inputSchema),
          contract_output: JSON.stringify(action.contract.output.successSchema),
          config_request: {
            request_url_template: "${var.service_url}" + WEATHER_PATH,
            request_type: "POST",
            request_template: forTerraform("${input.rawRequest}"),
            headers: headersFor(action.config.request.headers),
          },
          config_response: {
            translation_map: {},
            success_template: forTerraform("${rawResult}"),
          },
        },
      },
    },
  };
}

/** Every generated file, by path under the repository root, as it is committed. */
export function exportedFiles(): Record<string, string> {
  const problems = genesysContractProblems(inputSchema(), successSchema());
  if (problems.length > 0) {
    throw new Error(`The contract breaks Genesys rules: ${problems.join("; ")}`);
  }
  const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";
  return {
    "genesys/actions/get-current-weather.basic-auth.json": json(dataAction("basic-auth")),
    "genesys/actions/get-current-weather.user-defined-oauth.json": json(
      dataAction("user-defined-oauth"),
    ),
    "genesys/actions/custom-auth-action.json": json(customAuthAction()),
    "genesys/schemas/error-response.schema.json": json(errorResponseSchema()),
    "genesys/terraform/weather-action.tf.json": json(terraform()),
  };
}
