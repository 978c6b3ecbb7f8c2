/**
 * CX as Code: a Terraform module (variables in, ids out) that creates the
 * integration, its credential, the custom auth action (User Defined (OAuth)
 * only) and, for each of the service's actions asked for (`actions`: weather,
 * forecast), an action for each kind of place asked for (`location_kinds`),
 * plus a root example that calls it. Each service action is its own resource
 * (genesyscloud_integration_action.weather, .forecast), keyed by kind, so the
 * weather actions keep the addresses they had before the forecast came.
 *
 * Attribute names and the rules below are those of the provider
 * (MyPureCloud/terraform-provider-genesyscloud):
 * - `config.credentials` of a `custom-rest-actions` integration is keyed
 *   `basicAuth` whatever the credential's type: the custom auth action is
 *   looked up through `credentials["basicAuth"]`
 *   (genesyscloud/integration_custom_auth_action/genesyscloud_integration_custom_auth_action_proxy.go,
 *   getIntegrationCredentialsTypeFn; examples/resources/genesyscloud_integration/resource.tf).
 * - `config_timeout_seconds` is 1-60 and invalid on custom auth actions
 *   (docs/resources/integration_action.md).
 * - `contract_input` and `contract_output` are ForceNew: a change to either
 *   replaces the action, with a new id
 *   (genesyscloud/integration_action/resource_genesyscloud_integration_action_schema.go).
 * - `genesyscloud_integration_custom_auth_action` exists since v1.24.0, but the
 *   provider refuses a GENESYSCLOUD_REGION (`aws_region`) its getRegionMap()
 *   lacks (genesyscloud/provider/provider.go): mx-central-1 and ap-southeast-1
 *   are there from v1.68.5, eusc-de-east-1 from v1.83.0. docs/genesys.md lists
 *   every region, so the floor is v1.83.0.
 */

import {
  ACTION_TIMEOUT_S,
  type ActionName,
  ACTIONS,
  type ActionsByKind,
  type CustomAuthAction,
  type DataAction,
  PLACE_KINDS,
  type PlaceKind,
  SERVICE_URL_PLACEHOLDER,
} from "./actions.ts";
import { TOKEN_PATH } from "../../src/oauth/documents.ts";
import { tf, toTerraformJson } from "./terraform_json.ts";

export const PROVIDER_SOURCE = "mypurecloud/genesyscloud";
/** The first release that knows every region docs/genesys.md lists, within major version 1. */
export const PROVIDER_VERSION = ">= 1.83.0, < 2.0.0";
export const MODULE_DIR = "genesys/terraform/modules/weather-action";
export const EXAMPLE_DIR = "genesys/terraform/example";

/** What the module is built from: the same objects as the import JSON. */
export interface ModuleSources {
  oauthActions: ActionsByKind;
  basicActions: ActionsByKind;
  customAuth: CustomAuthAction;
}

/**
 * The part of one service action's actions that every kind shares (one
 * resource block writes them all), or an error if a kind differs: only the
 * name and the input contract may.
 */
function sameForEveryKind<T>(
  action: ActionName,
  actions: Record<PlaceKind, DataAction>,
  pick: (a: DataAction) => T,
): T {
  const [first, ...others] = PLACE_KINDS.map((kind) => pick(actions[kind]));
  for (const [index, other] of others.entries()) {
    if (JSON.stringify(other) !== JSON.stringify(first)) {
      throw new Error(
        `The ${action} action by ${PLACE_KINDS[index + 1]} differs from the one by ${
          PLACE_KINDS[0]
        }`,
      );
    }
  }
  return first!;
}

/** The part every action of every service action shares (one local holds it), or an error. */
function sameForEveryAction<T>(actions: ActionsByKind, pick: (a: DataAction) => T): T {
  const [first, ...others] = ACTIONS.map((action) =>
    sameForEveryKind(action, actions[action], pick)
  );
  for (const [index, other] of others.entries()) {
    if (JSON.stringify(other) !== JSON.stringify(first)) {
      throw new Error(`The ${ACTIONS[index + 1]} actions differ from the ${ACTIONS[0]} ones`);
    }
  }
  return first!;
}

/** The service's route an action calls: its URL template after SERVICE_URL_PLACEHOLDER. */
function servicePath(action: DataAction): string {
  const url = action.config.request.requestUrlTemplate;
  if (!url.startsWith(SERVICE_URL_PLACEHOLDER + "/")) {
    throw new Error(`"${action.name}" does not call ${SERVICE_URL_PLACEHOLDER}: ${url}`);
  }
  return url.slice(SERVICE_URL_PLACEHOLDER.length);
}

const OAUTH = 'var.credential_type == "userDefinedOAuth"';

function versions() {
  return {
    terraform: {
      required_version: ">= 1.3.0",
      required_providers: {
        genesyscloud: { source: PROVIDER_SOURCE, version: PROVIDER_VERSION },
      },
    },
  };
}

const text = (description: string, extra: Record<string, unknown> = {}) => ({
  type: "string",
  description,
  ...extra,
});
const secret = (description: string) => text(description, { default: null, sensitive: true });

/** Where the service is, and how Genesys proves itself to it. */
function credentialVariables() {
  return {
    service_url: text(
      "The service's external URL (its PUBLIC_URL), e.g. https://weather.example.com",
    ),
    credential_type: text(
      "userDefinedOAuth (a token from token_url, the default) or basicAuth (AUTH_MODE=basic)",
      {
        default: "userDefinedOAuth",
        validation: [{
          condition: tf('contains(["userDefinedOAuth", "basicAuth"], var.credential_type)'),
          error_message: "credential_type must be userDefinedOAuth or basicAuth.",
        }],
      },
    ),
    client_id: text("userDefinedOAuth: OAUTH_CLIENT_ID, or the identity provider's client id", {
      default: null,
    }),
    client_secret: secret("userDefinedOAuth: OAUTH_CLIENT_SECRET, or the identity provider's"),
    basic_auth_user: text("basicAuth: BASIC_AUTH_USER of the service", { default: null }),
    basic_auth_password: secret("basicAuth: BASIC_AUTH_PASSWORD of the service"),
  };
}

/** The custom auth action's token request (userDefinedOAuth). */
function tokenVariables() {
  return {
    token_url: text(
      "Token endpoint for userDefinedOAuth; null means the service's own <service_url>/oauth/token",
      { default: null },
    ),
    token_scope: text("Optional scope of the token request (Entra: api://<app-id>/.default)", {
      default: "",
    }),
    token_audience: text("Optional audience of the token request (Auth0: the API identifier)", {
      default: "",
    }),
  };
}

/**
 * A variable holding a set of some of `names`, all of them by default: at
 * least one, and only those, or `terraform plan` refuses it with the list.
 * `element` names one of them in the validation's loop.
 */
function setOfNames(
  variable: string,
  element: string,
  names: readonly string[],
  description: string,
) {
  return {
    type: "set(string)",
    default: [...names],
    description,
    validation: [{
      condition: tf(
        `length(var.${variable}) > 0 && alltrue([for ${element} in var.${variable} : contains(${
          JSON.stringify(names)
        }, ${element})])`,
      ),
      error_message: `${variable} must name one or more of ${
        names.map((name) => `"${name}"`).join(", ")
      }.`,
    }],
  };
}

/** The actions themselves. */
function actionVariables() {
  return {
    actions: setOfNames(
      "actions",
      "action",
      ACTIONS,
      "The service's actions to create, each for every kind in location_kinds: weather (Get current weather) and forecast (Get weather forecast)",
    ),
    location_kinds: setOfNames(
      "location_kinds",
      "kind",
      PLACE_KINDS,
      "The actions to create, one per kind of place a flow has: city (speech), postal_code (keypad), coordinates (CRM)",
    ),
    timeout_seconds: {
      type: "number",
      default: ACTION_TIMEOUT_S,
      description: "The action's timeout, 1-60 s; keep it above the service's REQUEST_DEADLINE_MS",
      validation: [{
        condition: tf(
          "var.timeout_seconds >= 1 && var.timeout_seconds <= 60 && floor(var.timeout_seconds) == var.timeout_seconds",
        ),
        error_message: "timeout_seconds must be a whole number from 1 to 60.",
      }],
    },
    integration_name: text("Name of the integration, and the actions' category", {
      default: "Weather service",
    }),
  };
}

function variables() {
  return { variable: { ...credentialVariables(), ...tokenVariables(), ...actionVariables() } };
}

/** Genesys's strings, kept as literals (escaped) and chosen between by Terraform expressions. */
function locals(sources: ModuleSources) {
  return {
    locals: {
      service_url: tf('trimsuffix(var.service_url, "/")'),
      oauth_action_headers: sameForEveryAction(
        sources.oauthActions,
        (action) => action.config.request.headers,
      ),
      basic_action_headers: sameForEveryAction(
        sources.basicActions,
        (action) => action.config.request.headers,
      ),
      action_headers: tf(
        `${OAUTH} ? tomap(local.oauth_action_headers) : tomap(local.basic_action_headers)`,
      ),
      credential_fields: tf(
        `${OAUTH} ? tomap({ loginUrl = coalesce(var.token_url, format("%s${TOKEN_PATH}", local.service_url)), clientId = var.client_id, clientSecret = var.client_secret }) : tomap({ userName = var.basic_auth_user, password = var.basic_auth_password })`,
      ),
      // What sets one kind's action apart, for each service action: its name and its input contract.
      actions: Object.fromEntries(ACTIONS.map((name) => [
        name,
        Object.fromEntries(PLACE_KINDS.map((kind) => {
          const action = sources.oauthActions[name][kind];
          const contractInput = JSON.stringify(action.contract.input.inputSchema);
          return [kind, { name: action.name, contract_input: contractInput }];
        })),
      ])),
      // The same body as tokenRequestBody(), with urlencode() for formEncode().
      token_request: tf(
        'join("&", concat(["grant_type=client_credentials"], var.token_scope == "" ? [] : [format("scope=%s", urlencode(var.token_scope))], var.token_audience == "" ? [] : [format("audience=%s", urlencode(var.token_audience))]))',
      ),
    },
  };
}

function credential() {
  return {
    genesyscloud_integration_credential: {
      weather: {
        name: tf('format("%s (%s)", var.integration_name, var.credential_type)'),
        credential_type_name: tf("var.credential_type"),
        fields: tf("local.credential_fields"),
        lifecycle: {
          precondition: [{
            condition: tf(
              `${OAUTH} ? var.client_id != null && var.client_secret != null : var.basic_auth_user != null && var.basic_auth_password != null`,
            ),
            error_message:
              "Set client_id and client_secret for userDefinedOAuth, or basic_auth_user and basic_auth_password for basicAuth.",
          }],
        },
      },
    },
  };
}

function integration() {
  return {
    genesyscloud_integration: {
      weather: {
        intended_state: "ENABLED",
        integration_type: "custom-rest-actions",
        config: {
          name: tf("var.integration_name"),
          // "basicAuth" for every credential type: see the header of this file.
          credentials: { basicAuth: tf("genesyscloud_integration_credential.weather.id") },
        },
      },
    },
  };
}

function customAuthActionResource(customAuth: CustomAuthAction) {
  const { request, response } = customAuth.config;
  return {
    genesyscloud_integration_custom_auth_action: {
      weather: {
        // Genesys creates this action only for userDefinedOAuth credentials.
        count: tf(`${OAUTH} ? 1 : 0`),
        integration_id: tf("genesyscloud_integration.weather.id"),
        name: customAuth.name,
        config_request: {
          request_url_template: request.requestUrlTemplate,
          request_type: request.requestType,
          request_template: tf("local.token_request"),
          headers: request.headers,
        },
        config_response: {
          translation_map: response.translationMap,
          success_template: response.successTemplate,
        },
      },
    },
  };
}

/**
 * One service action's actions, one per kind in location_kinds, when
 * `actions` names it; the resource is named after the service action, so
 * `genesyscloud_integration_action.weather["city"]` stays what it was.
 */
function actionResource(name: ActionName, actions: Record<PlaceKind, DataAction>) {
  const same = <T>(pick: (a: DataAction) => T) => sameForEveryKind(name, actions, pick);
  const request = same((action) => action.config.request);
  const response = same((action) => action.config.response);
  const path = same(servicePath);
  return {
    [name]: {
      for_each: tf(
        `{ for kind in var.location_kinds : kind => local.actions.${name}[kind] if contains(var.actions, "${name}") }`,
      ),
      name: tf("each.value.name"),
      category: tf("var.integration_name"),
      integration_id: tf("genesyscloud_integration.weather.id"),
      secure: same((action) => action.secure),
      config_timeout_seconds: tf("var.timeout_seconds"),
      contract_input: tf("each.value.contract_input"),
      contract_output: JSON.stringify(same((action) => action.contract.output.successSchema)),
      config_request: {
        request_url_template: tf(`format("%s${path}", local.service_url)`),
        request_type: request.requestType,
        request_template: request.requestTemplate,
        headers: tf("local.action_headers"),
      },
      config_response: {
        translation_map: response.translationMap,
        success_template: response.successTemplate,
      },
    },
  };
}

/**
 * Before location_kinds there was one action, at the address without a key;
 * it asked for a city. This keeps it in the state as the city action, rather
 * than destroying it and creating an unrelated one. Its contracts changed in
 * the same release, though, and the provider replaces an action whose
 * contract changes: that first apply still gives the city action a new id.
 */
export const MOVED_ACTION = {
  from: "genesyscloud_integration_action.weather",
  to: 'genesyscloud_integration_action.weather["city"]',
};

function outputs() {
  const value = (source: string, description: string) => ({ value: tf(source), description });
  return {
    output: {
      integration_id: value("genesyscloud_integration.weather.id", "The integration's id"),
      credential_id: value("genesyscloud_integration_credential.weather.id", "The credential's id"),
      action_ids: value(
        "{ for kind, action in genesyscloud_integration_action.weather : kind => action.id }",
        "The weather actions' ids by kind of place (city, postal_code, coordinates), for Architect and the API",
      ),
      forecast_action_ids: value(
        "{ for kind, action in genesyscloud_integration_action.forecast : kind => action.id }",
        'The forecast actions\' ids by kind of place, like action_ids (empty without "forecast" in actions)',
      ),
      action_id: {
        "//":
          "Kept for configurations written before action_ids, when the one action was the city action.",
        ...value(
          'try(genesyscloud_integration_action.weather["city"].id, null)',
          'Deprecated: action_ids["city"], the city action\'s id (null without "city" in location_kinds)',
        ),
      },
      custom_auth_action_id: value(
        "one(genesyscloud_integration_custom_auth_action.weather[*].id)",
        "The custom auth action's id (null for basicAuth)",
      ),
    },
  };
}

/** The module's files, by name, as JSON values ready for Terraform. */
export function terraformModule(sources: ModuleSources): Record<string, unknown> {
  const main = {
    ...locals(sources),
    resource: {
      ...credential(),
      ...integration(),
      ...customAuthActionResource(sources.customAuth),
      genesyscloud_integration_action: Object.assign(
        {},
        ...ACTIONS.map((name) => actionResource(name, sources.oauthActions[name])),
      ),
    },
    moved: [MOVED_ACTION],
  };
  return {
    "versions.tf.json": toTerraformJson(versions()),
    "variables.tf.json": toTerraformJson(variables()),
    "main.tf.json": toTerraformJson(main),
    "outputs.tf.json": toTerraformJson(outputs()),
  };
}

/**
 * The root example: only a module call, with `weather_`-prefixed variables and
 * outputs so it can be dropped into an existing configuration. It declares no
 * `terraform` or `provider` block: the configuration it joins has its own, and
 * the module states its provider requirement.
 */
export function terraformExample(): unknown {
  const variables: Record<string, Record<string, unknown>> = {
    service_url: { type: "string" },
    credential_type: { type: "string", default: "userDefinedOAuth" },
    token_url: { type: "string", default: null },
    client_id: { type: "string", default: null },
    client_secret: { type: "string", default: null, sensitive: true },
    token_scope: { type: "string", default: "" },
    token_audience: { type: "string", default: "" },
    actions: { type: "set(string)", default: [...ACTIONS] },
    location_kinds: { type: "set(string)", default: [...PLACE_KINDS] },
  };
  const names = Object.keys(variables);
  return toTerraformJson({
    variable: Object.fromEntries(names.map((name) => [`weather_${name}`, variables[name]])),
    module: {
      weather_action: {
        source: "../modules/weather-action",
        ...Object.fromEntries(names.map((name) => [name, tf(`var.weather_${name}`)])),
      },
    },
    output: {
      weather_action_ids: { value: tf("module.weather_action.action_ids") },
      weather_forecast_action_ids: { value: tf("module.weather_action.forecast_action_ids") },
      weather_integration_id: { value: tf("module.weather_action.integration_id") },
    },
  });
}

/** Every Terraform file, by path under the repository root. */
export function terraformFiles(sources: ModuleSources): Record<string, unknown> {
  const files: Record<string, unknown> = {};
  for (const [name, content] of Object.entries(terraformModule(sources))) {
    files[`${MODULE_DIR}/${name}`] = content;
  }
  files[`${EXAMPLE_DIR}/weather.tf.json`] = terraformExample();
  return files;
}
