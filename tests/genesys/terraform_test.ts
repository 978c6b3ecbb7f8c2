/**
 * The Terraform module under genesys/terraform/, checked against facts from
 * the Genesys Cloud provider (MyPureCloud/terraform-provider-genesyscloud,
 * v1.84.1). Each fact names the provider file it comes from, to re-check.
 * These are static checks: `terraform validate` needs the provider's schema,
 * which only the registry has.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ACTION_TIMEOUT_S,
  actionFileName,
  type ActionName,
  ACTIONS,
  actionsFor,
  customAuthAction,
  type DataAction,
  PLACE_KINDS,
  type PlaceKind,
} from "../../tools/genesys/actions.ts";
import { exportedFiles } from "../../tools/genesys/export.ts";
import { terraformModule } from "../../tools/genesys/terraform.ts";
import { escapeForTerraform, tf, unescapeTerraform } from "../../tools/genesys/terraform_json.ts";

const MODULE = "genesys/terraform/modules/weather-action";
const EXAMPLE = "genesys/terraform/example/weather.tf.json";
// deno-lint-ignore no-explicit-any
type Json = any;

function committed(): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(exportedFiles())
      .filter(([path]) => path.startsWith("genesys/terraform/"))
      .map(([path, text]) => [path, JSON.parse(text)]),
  );
}
const moduleFile = (name: string): Json => committed()[`${MODULE}/${name}`];
const importJson = (kind: PlaceKind, action: ActionName = "weather"): Json =>
  JSON.parse(
    exportedFiles()[`genesys/actions/${actionFileName(action, kind, "user-defined-oauth")}`]!,
  );

/**
 * What Terraform makes of a string that it must not interpolate: `$${` and
 * `%%{` are its escapes, and any other `${` or `%{` starts a template
 * (HCL native syntax spec, "Template Literals"). Written independently of
 * unescapeTerraform(), so the two check each other.
 */
function terraformLiteral(text: string): string {
  let out = "";
  for (let i = 0; i < text.length;) {
    if (text.startsWith("$${", i) || text.startsWith("%%{", i)) {
      out += text[i] + "{";
      i += 3;
    } else if (text.startsWith("${", i) || text.startsWith("%{", i)) {
      throw new Error(`Terraform would interpolate ${JSON.stringify(text.slice(i))}`);
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

/** Every string in a JSON value. */
function strings(value: Json): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

/** A whole-string expression `${...}` as the generator writes it: no template inside. */
const EXPRESSION = /^\$\{((?:(?!\$\{|%\{)[^])*)\}$/;

Deno.test("genesyscloud_integration keys its credential basicAuth, as the provider reads it", () => {
  const main = moduleFile("main.tf.json");
  // genesyscloud/integration_custom_auth_action/genesyscloud_integration_custom_auth_action_proxy.go,
  // getIntegrationCredentialsTypeFn: `(*integrationConfig.Credentials)["basicAuth"]`, else
  // "does not allow for a custom auth data action". examples/resources/genesyscloud_integration/
  // resource.tf links a userDefinedOAuth credential under basicAuth too.
  assert.deepEqual(Object.keys(main.resource.genesyscloud_integration.weather.config.credentials), [
    "basicAuth",
  ]);
  assert.equal(
    main.resource.genesyscloud_integration.weather.config.credentials.basicAuth,
    "${genesyscloud_integration_credential.weather.id}",
  );
  assert.equal(
    main.resource.genesyscloud_integration.weather.integration_type,
    "custom-rest-actions",
  );
  // docs/guides/custom_auth_action.md: the credential type must be userDefinedOAuth for a custom
  // auth action; docs/resources/integration_credential.md: credential_type_name.
  const variables = moduleFile("variables.tf.json").variable;
  assert.equal(variables.credential_type.default, "userDefinedOAuth");
  assert.equal(
    main.resource.genesyscloud_integration_credential.weather.credential_type_name,
    "${var.credential_type}",
  );
  // The custom auth action exists only for userDefinedOAuth (same guide).
  assert.equal(
    main.resource.genesyscloud_integration_custom_auth_action.weather.count,
    '${var.credential_type == "userDefinedOAuth" ? 1 : 0}',
  );
});

Deno.test("the Terraform is a module with a versioned provider, and the example only calls it", async (t) => {
  const files = committed();
  await t.step(
    "only the module's versions.tf.json has a terraform block; nothing configures a provider",
    () => {
      for (const [path, content] of Object.entries(files)) {
        assert.equal("provider" in content, false, `${path} configures a provider`);
        assert.equal(
          "terraform" in content,
          path === `${MODULE}/versions.tf.json`,
          `${path}: a terraform block belongs only in the module's versions.tf.json`,
        );
      }
    },
  );
  await t.step("the module pins the provider source and a version range", () => {
    const required = moduleFile("versions.tf.json").terraform.required_providers;
    assert.equal(required.genesyscloud.source, "mypurecloud/genesyscloud");
    // genesyscloud_integration_custom_auth_action is in docs/resources/ from tag v1.24.0 on; the
    // floor is higher for the regions (see "every region docs/genesys.md lists" below).
    assert.equal(required.genesyscloud.version, ">= 1.83.0, < 2.0.0");
  });
  await t.step("every var. and local. the module reads is declared", () => {
    const declared = new Set(Object.keys(moduleFile("variables.tf.json").variable));
    const locals = new Set(Object.keys(moduleFile("main.tf.json").locals));
    const text = JSON.stringify([moduleFile("main.tf.json"), moduleFile("outputs.tf.json")]);
    for (const [, name] of text.matchAll(/\bvar\.(\w+)/g)) assert.ok(declared.has(name!), name);
    for (const [, name] of text.matchAll(/\blocal\.(\w+)/g)) assert.ok(locals.has(name!), name);
  });
  await t.step(
    "the example passes declared variables, every required one, to the module's path",
    () => {
      const variables = moduleFile("variables.tf.json").variable;
      const call = files[EXAMPLE].module.weather_action;
      assert.equal(call.source, "../modules/weather-action");
      const passed = Object.keys(call).filter((key) => key !== "source");
      for (const name of passed) assert.ok(name in variables, `${name} is not a module variable`);
      for (const [name, variable] of Object.entries(variables)) {
        if (!("default" in (variable as object))) assert.ok(passed.includes(name), name);
      }
      for (const name of Object.keys(files[EXAMPLE].variable)) {
        assert.match(
          name,
          /^weather_/,
          "example variables are prefixed, to join any configuration",
        );
      }
    },
  );
  await t.step("secrets are sensitive variables", () => {
    const variables = moduleFile("variables.tf.json").variable;
    assert.equal(variables.client_secret.sensitive, true);
    assert.equal(variables.basic_auth_password.sensitive, true);
    assert.equal(files[EXAMPLE].variable.weather_client_secret.sensitive, true);
  });
});

Deno.test("the Terraform creates an action per service action in actions and kind of place in location_kinds", async (t) => {
  const main = moduleFile("main.tf.json");
  const resources = main.resource.genesyscloud_integration_action;
  const variables = moduleFile("variables.tf.json").variable;
  const example = committed()[EXAMPLE];
  await t.step("location_kinds: a set of the kinds, all by default, checked", () => {
    const variable = variables.location_kinds;
    assert.equal(variable.type, "set(string)");
    assert.deepEqual(variable.default, ["city", "postal_code", "coordinates"]);
    assert.equal(
      variable.validation[0].condition,
      '${length(var.location_kinds) > 0 && alltrue([for kind in var.location_kinds : contains(["city","postal_code","coordinates"], kind)])}',
    );
    assert.deepEqual(example.variable.weather_location_kinds.default, variable.default);
    assert.equal(
      example.module.weather_action.location_kinds,
      "${var.weather_location_kinds}",
    );
  });
  await t.step("actions: a set of the service's actions, both by default, checked", () => {
    const variable = variables.actions;
    assert.equal(variable.type, "set(string)");
    assert.deepEqual(variable.default, ["weather", "forecast"]);
    assert.equal(
      variable.validation[0].condition,
      '${length(var.actions) > 0 && alltrue([for action in var.actions : contains(["weather","forecast"], action)])}',
    );
    assert.deepEqual(example.variable.weather_actions.default, variable.default);
    assert.equal(example.module.weather_action.actions, "${var.weather_actions}");
  });
  await t.step("one resource per service action; the weather's keeps its address", () => {
    // genesyscloud_integration_action.weather["<kind>"] is where the weather actions were:
    // an upgrade neither moves nor replaces them.
    assert.deepEqual(Object.keys(resources), ["weather", "forecast"]);
    assert.deepEqual(Object.keys(main.locals.actions), [...ACTIONS]);
  });
  await t.step("for_each: the kinds asked for, and none unless actions names the action", () => {
    // `terraform console` on the variables and locals (Terraform 1.11.4, offline) evaluates
    // these to every kind by default, and to {} for forecast with actions = ["weather"].
    assert.equal(
      resources.weather.for_each,
      '${{ for kind in var.location_kinds : kind => local.actions.weather[kind] if contains(var.actions, "weather") }}',
    );
    assert.equal(
      resources.forecast.for_each,
      '${{ for kind in var.location_kinds : kind => local.actions.forecast[kind] if contains(var.actions, "forecast") }}',
    );
  });
  await t.step("each action has the import JSON's name, contracts and route", () => {
    const paths = { weather: "/data-action/weather", forecast: "/data-action/forecast" };
    for (const name of ACTIONS) {
      const resource = resources[name];
      assert.equal(resource.name, "${each.value.name}");
      assert.equal(resource.contract_input, "${each.value.contract_input}");
      assert.equal(
        resource.config_request.request_url_template,
        `\${format("%s${paths[name]}", local.service_url)}`,
      );
      assert.deepEqual(Object.keys(main.locals.actions[name]), [...PLACE_KINDS]);
      for (const kind of PLACE_KINDS) {
        const imported = importJson(kind, name);
        const local = main.locals.actions[name][kind];
        assert.equal(unescapeTerraform(local.name), imported.name);
        assert.deepEqual(
          JSON.parse(unescapeTerraform(local.contract_input)),
          imported.contract.input.inputSchema,
        );
        // One output contract for all of an action's kinds: the import JSON's.
        assert.deepEqual(
          JSON.parse(unescapeTerraform(resource.contract_output)),
          imported.contract.output.successSchema,
        );
        assert.equal(
          imported.config.request.requestUrlTemplate,
          `https://YOUR-SERVICE-HOST${paths[name]}`,
        );
      }
    }
    assert.equal(main.locals.actions.forecast.city.name, "Get weather forecast by city");
  });
  await t.step("apart from those, the two resources are the same", () => {
    const shared = (resource: Json) => {
      const { for_each: _, contract_output: __, config_request, ...rest } = resource;
      const { request_url_template: ___, ...request } = config_request;
      return { ...rest, config_request: request };
    };
    assert.deepEqual(shared(resources.forecast), shared(resources.weather));
  });
  await t.step("the one action of earlier versions becomes the city action", () => {
    // Without this, Terraform would destroy weather and create weather["city"] as a new object.
    // The forecast actions are new: nothing to move.
    assert.deepEqual(main.moved, [{
      from: "genesyscloud_integration_action.weather",
      to: 'genesyscloud_integration_action.weather["city"]',
    }]);
  });
  await t.step("the ids by kind, and action_id still names the city action", () => {
    const { output } = moduleFile("outputs.tf.json");
    assert.equal(
      output.action_ids.value,
      "${{ for kind, action in genesyscloud_integration_action.weather : kind => action.id }}",
    );
    assert.equal(
      output.forecast_action_ids.value,
      "${{ for kind, action in genesyscloud_integration_action.forecast : kind => action.id }}",
    );
    assert.equal(
      output.action_id.value,
      '${try(genesyscloud_integration_action.weather["city"].id, null)}',
    );
    assert.equal(example.output.weather_action_ids.value, "${module.weather_action.action_ids}");
    assert.equal(
      example.output.weather_forecast_action_ids.value,
      "${module.weather_action.forecast_action_ids}",
    );
  });
  await t.step("a kind whose request differs from the others is refused", () => {
    const basicActions = actionsFor("basic-auth");
    const oauthActions = actionsFor("user-defined-oauth");
    const city = oauthActions.forecast.city;
    const changed = {
      ...city,
      config: { ...city.config, request: { ...city.config.request, requestType: "GET" as const } },
    };
    assert.throws(
      () =>
        terraformModule({
          oauthActions: {
            ...oauthActions,
            forecast: { ...oauthActions.forecast, coordinates: changed },
          },
          basicActions,
          customAuth: customAuthAction(),
        }),
      /The forecast action by coordinates differs from the one by city/,
    );
  });
  await t.step("so are actions whose headers differ from the other action's", () => {
    const oauthActions = actionsFor("user-defined-oauth");
    const withHeader = (action: DataAction): DataAction => ({
      ...action,
      config: {
        ...action.config,
        request: {
          ...action.config.request,
          headers: { ...action.config.request.headers, X: "1" },
        },
      },
    });
    const forecast = Object.fromEntries(
      PLACE_KINDS.map((kind) => [kind, withHeader(oauthActions.forecast[kind])]),
    ) as Record<PlaceKind, DataAction>;
    assert.throws(
      () =>
        terraformModule({
          oauthActions: { ...oauthActions, forecast },
          basicActions: actionsFor("basic-auth"),
          customAuth: customAuthAction(),
        }),
      /The forecast actions differ from the weather ones/,
    );
  });
});

Deno.test("the Terraform's custom auth action sends scope and audience only when set", () => {
  const main = moduleFile("main.tf.json");
  const variables = moduleFile("variables.tf.json").variable;
  const auth = main.resource.genesyscloud_integration_custom_auth_action.weather;
  assert.equal(auth.config_request.request_template, "${local.token_request}");
  assert.equal(variables.token_scope.default, "");
  assert.equal(variables.token_audience.default, "");
  // The same parameters, order and encoding as tokenRequestBody() (urlencode() = formEncode()).
  assert.equal(
    main.locals.token_request,
    '${join("&", concat(["grant_type=client_credentials"], var.token_scope == "" ? [] : [format("scope=%s", urlencode(var.token_scope))], var.token_audience == "" ? [] : [format("audience=%s", urlencode(var.token_audience))]))}',
  );
  // Genesys's templates, escaped, as in the provider's own example
  // (examples/resources/genesyscloud_integration_custom_auth_action/resource.tf).
  assert.equal(auth.config_request.request_url_template, "$${credentials.loginUrl}");
  assert.equal(
    auth.config_request.headers.Authorization,
    'Basic $encoding.base64("$${credentials.clientId}:$${credentials.clientSecret}")',
  );
  assert.equal(auth.config_response.success_template, '{ "token": $${tokenValue} }');
});

Deno.test("the Terraform's action timeout is the import JSON's", () => {
  const action = moduleFile("main.tf.json").resource.genesyscloud_integration_action.weather;
  const timeout = moduleFile("variables.tf.json").variable.timeout_seconds;
  const imported = importJson("city");
  // docs/resources/integration_action.md: config_timeout_seconds, "Optional 1-60 second timeout".
  assert.equal(action.config_timeout_seconds, "${var.timeout_seconds}");
  assert.equal(timeout.default, imported.config.timeoutSeconds);
  assert.equal(timeout.default, ACTION_TIMEOUT_S);
  assert.match(
    timeout.validation[0].condition,
    /var\.timeout_seconds >= 1 && var\.timeout_seconds <= 60/,
  );
});

Deno.test("escapeForTerraform() leaves nothing for Terraform to interpolate", async (t) => {
  await t.step("any string: Terraform reads back the original", () => {
    const piece = fc.constantFrom("$", "%", "{", "}", "$$", "%%", "a", "\\", '"');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((parts) => parts.join("")), (text) => {
        const escaped = escapeForTerraform(text);
        assert.equal(terraformLiteral(escaped), text);
        assert.equal(unescapeTerraform(escaped), text);
      }),
      { numRuns: 500 },
    );
  });
  await t.step("a contract description with ${ and %{ survives into contract_input", () => {
    const description = "Say ${input.city_name} with %{ if true }care%{ endif }";
    const oauthActions = actionsFor("user-defined-oauth");
    const action = oauthActions.weather.city;
    const inputSchema = action.contract.input.inputSchema;
    const city = inputSchema.properties.city_name!;
    const tweaked: DataAction = {
      ...action,
      contract: {
        ...action.contract,
        input: {
          inputSchema: {
            ...inputSchema,
            properties: { ...inputSchema.properties, city_name: { ...city, description } },
          },
        },
      },
    };
    const main = terraformModule({
      oauthActions: { ...oauthActions, weather: { ...oauthActions.weather, city: tweaked } },
      basicActions: actionsFor("basic-auth"),
      customAuth: customAuthAction(),
    })["main.tf.json"] as Json;
    const written = main.locals.actions.weather.city.contract_input;
    assert.ok(written.includes("$${input.city_name}") && written.includes("%%{ if true }"));
    const read = JSON.parse(terraformLiteral(written));
    assert.equal(read.properties.city_name.description, description);
  });
  await t.step(
    "every string committed is a literal Terraform keeps, or one whole expression",
    () => {
      for (const [path, content] of Object.entries(committed())) {
        for (const text of strings(content)) {
          if (EXPRESSION.test(text)) continue;
          assert.doesNotThrow(() => terraformLiteral(text), `${path}: ${text}`);
        }
      }
    },
  );
  await t.step("an expression may not hide a template", () => {
    assert.throws(() => tf('"${var.a}"'), /holds a template/);
    assert.throws(() => tf('"%{ if x }"'), /holds a template/);
  });
});

/**
 * GENESYSCLOUD_REGION values and their hosts, from getRegionMap() in the provider's
 * genesyscloud/provider/provider.go (dca and tca are Genesys's internal test regions).
 */
const PROVIDER_REGIONS: Record<string, string> = {
  "us-east-1": "mypurecloud.com",
  "us-east-2": "use2.us-gov-pure.cloud",
  "us-west-2": "usw2.pure.cloud",
  "eu-west-1": "mypurecloud.ie",
  "eu-west-2": "euw2.pure.cloud",
  "ap-southeast-2": "mypurecloud.com.au",
  "ap-northeast-1": "mypurecloud.jp",
  "eu-central-1": "mypurecloud.de",
  "ca-central-1": "cac1.pure.cloud",
  "ap-northeast-2": "apne2.pure.cloud",
  "ap-south-1": "aps1.pure.cloud",
  "sa-east-1": "sae1.pure.cloud",
  "ap-northeast-3": "apne3.pure.cloud",
  "eu-central-2": "euc2.pure.cloud",
  "me-central-1": "mec1.pure.cloud",
  "mx-central-1": "mxc1.pure.cloud",
  "ap-southeast-1": "apse1.pure.cloud",
  "eusc-de-east-1": "edee1.eusc-pure.cloud",
};

/**
 * The first provider release whose getRegionMap() has each region that came
 * after v1.24.0 (from the provider's tags); an older provider refuses the
 * region as `aws_region`.
 */
const REGION_FIRST_RELEASE: Record<string, string> = {
  "mx-central-1": "1.68.5",
  "ap-southeast-1": "1.68.5",
  "eusc-de-east-1": "1.83.0",
};

Deno.test("the provider floor is a release that knows every region docs/genesys.md lists", () => {
  const version = (text: string) => text.split(".").map(Number);
  const atLeast = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! > b[i]!;
    return true;
  };
  const constraint = moduleFile("versions.tf.json").terraform.required_providers.genesyscloud
    .version as string;
  const floor = version(constraint.match(/^>= (\d+\.\d+\.\d+),/)![1]!);
  for (const [region, release] of Object.entries(REGION_FIRST_RELEASE)) {
    assert.ok(region in PROVIDER_REGIONS, region);
    assert.ok(atLeast(floor, version(release)), `${region} needs the provider >= ${release}`);
  }
});

Deno.test("docs/genesys.md's region table pairs each host with the provider's GENESYSCLOUD_REGION", () => {
  const docs = Deno.readTextFileSync(new URL("../../docs/genesys.md", import.meta.url));
  const rows = [...docs.matchAll(/^\| [^|]+\| `([a-z0-9.-]+)`\s*\| `([a-z0-9-]+)`\s*\|$/gm)];
  const table = Object.fromEntries(rows.map(([, host, region]) => [region!, host!]));
  assert.deepEqual(table, PROVIDER_REGIONS);
});
