import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../../src/config.ts";
import {
  ACTION_TIMEOUT_S,
  actionFileName,
  ACTIONS,
  ANSWER_INPUTS,
  CREDENTIAL_TYPES,
  customAuthAction,
  fieldsInNoAction,
  formEncode,
  PLACE_KINDS,
  SERVICE_ACTIONS,
  SERVICE_DEADLINE_MS,
  tokenRequestBody,
  type TokenRequestOptions,
} from "../../tools/genesys/actions.ts";
import {
  contractFields,
  ForecastReportSchema,
  RequestFieldsSchema,
  WeatherReportSchema,
} from "../../tools/contract_schema.ts";
import { FORECAST_PATH, WEATHER_PATH } from "../../src/edge/handler.ts";
import { exportedFiles } from "../../tools/genesys/export.ts";
import { renderVelocity } from "../../tools/genesys/velocity.ts";
import { genesysContractProblems, type JsonSchemaObject } from "../../tools/genesys/rules.ts";

const ROOT = new URL("../../", import.meta.url);

function committedFiles(dir: URL, prefix: string): string[] {
  const paths: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${prefix}/${entry.name}`;
    if (entry.isDirectory) paths.push(...committedFiles(new URL(`${entry.name}/`, dir), path));
    else paths.push(path);
  }
  return paths;
}

const actionPath = (...args: Parameters<typeof actionFileName>) =>
  `genesys/actions/${actionFileName(...args)}`;

Deno.test("genesys/ holds exactly what `deno task export-actions` produces from tools/contract_schema.ts", () => {
  // A file the export no longer writes (an old Terraform file, say) would still be picked up.
  assert.deepEqual(
    committedFiles(new URL("genesys/", ROOT), "genesys").sort(),
    Object.keys(exportedFiles()).sort(),
    "genesys/ holds files the export does not produce: delete them",
  );
  for (const [path, content] of Object.entries(exportedFiles())) {
    let committed: string;
    try {
      committed = Deno.readTextFileSync(new URL(path, ROOT));
    } catch {
      assert.fail(`${path} is missing: run \`deno task export-actions\` and commit it`);
    }
    assert.equal(
      committed,
      content,
      `${path} is stale: run \`deno task export-actions\` and commit it`,
    );
  }
});

Deno.test("the export writes every action of the service, for each kind of place and credential type", () => {
  const actionFiles = Object.keys(exportedFiles())
    .filter((path) => path.startsWith("genesys/actions/"))
    .sort();
  const expected = ["get-current-weather", "get-weather-forecast"].flatMap((stem) =>
    ["city", "postal-code", "coordinates"].flatMap((kind) =>
      ["basic-auth", "user-defined-oauth"].map((type) =>
        `genesys/actions/${stem}-by-${kind}.${type}.json`
      )
    )
  );
  assert.deepEqual(actionFiles, [...expected, "genesys/actions/custom-auth-action.json"].sort());
  assert.deepEqual([...ACTIONS], ["weather", "forecast"]);
});

Deno.test("genesysContractProblems() enforces Genesys's contract rules", async (t) => {
  const ok: JsonSchemaObject = {
    type: "object",
    properties: { city_name: { type: "string", description: "x" } },
  };
  await t.step("every exported action passes", () => {
    for (const name of ACTIONS) {
      for (const kind of PLACE_KINDS) {
        const action = JSON.parse(exportedFiles()[actionPath(name, kind, "basic-auth")]!);
        assert.deepEqual(
          genesysContractProblems(
            action.contract.input.inputSchema,
            action.contract.output.successSchema,
          ),
          [],
          `${name} by ${kind}`,
        );
      }
    }
  });
  await t.step("and each rule bites", () => {
    const cases: [JsonSchemaObject, JsonSchemaObject, RegExp][] = [
      [{ type: "object", properties: { "1city": { type: "string" } } }, ok, /does not match/],
      [{ type: "object", properties: { rawRequest: { type: "string" } } }, ok, /reserves/],
      [
        { type: "object", properties: { place: { type: "object" } } },
        ok,
        /must be one of string, integer, number, boolean/,
      ],
      [
        ok,
        { type: "object", properties: { temperature: { type: "number" } } },
        /has no description/,
      ],
      [ok, {
        type: "object",
        properties: { grid: { type: "array", description: "x", items: { type: "array" } } },
      }, /nested array/],
    ];
    for (const [input, output, expected] of cases) {
      const problems = genesysContractProblems(input, output);
      assert.equal(problems.length, 1, problems.join("; "));
      assert.match(problems[0]!, expected);
    }
  });
});

Deno.test("dataAction() carries the action timeout that exceeds the service's deadline", () => {
  const files = exportedFiles();
  const defaultDeadlineMs = Number(CONFIG_VARIABLES.REQUEST_DEADLINE_MS.default);
  assert.equal(SERVICE_DEADLINE_MS, defaultDeadlineMs);
  for (const name of ACTIONS) {
    for (const credentialType of CREDENTIAL_TYPES) {
      for (const kind of PLACE_KINDS) {
        const action = JSON.parse(files[actionPath(name, kind, credentialType)]!);
        // Genesys: "Optional 1-60 second timeout" (provider docs/resources/integration_action.md);
        // the API's Actionconfig field is timeoutSeconds (provider
        // genesyscloud/integration_action/resource_genesyscloud_integration_action_utils.go).
        assert.equal(
          action.config.timeoutSeconds,
          ACTION_TIMEOUT_S,
          `${name} ${kind} ${credentialType}`,
        );
      }
    }
  }
  assert.ok(Number.isInteger(ACTION_TIMEOUT_S) && ACTION_TIMEOUT_S >= 1 && ACTION_TIMEOUT_S <= 60);
  // The service must answer (UPSTREAM_TIMEOUT, Success path) before Genesys gives up (Timeout path),
  // with room for the network and TLS.
  assert.ok(ACTION_TIMEOUT_S * 1000 - defaultDeadlineMs >= 2000);
  // "This setting is invalid for Custom Authentication Actions" (docs/resources/integration_action.md).
  const auth = JSON.parse(files["genesys/actions/custom-auth-action.json"]!);
  assert.equal("timeoutSeconds" in auth.config, false);
});

Deno.test("dataAction() makes one action per action and kind of place, each asking only for its own inputs", async (t) => {
  const files = exportedFiles();
  const stems = { weather: "get-current-weather", forecast: "get-weather-forecast" } as const;
  const action = (name: keyof typeof stems, kind: string, credentialType = "basic-auth") =>
    JSON.parse(files[`genesys/actions/${stems[name]}-by-${kind}.${credentialType}.json`]!);
  const contract = new Map(
    contractFields(RequestFieldsSchema, "input").map((field) => [field.name, field]),
  );
  const expected = {
    "city": {
      names: { weather: "Get current weather by city", forecast: "Get weather forecast by city" },
      inputs: ["city_name", "country_code", "units", "lang"],
      required: ["city_name"],
    },
    "postal-code": {
      names: {
        weather: "Get current weather by postal code",
        forecast: "Get weather forecast by postal code",
      },
      inputs: ["postal_code", "country_code", "units", "lang"],
      required: ["postal_code", "country_code"],
    },
    "coordinates": {
      names: {
        weather: "Get current weather by coordinates",
        forecast: "Get weather forecast by coordinates",
      },
      inputs: ["latitude", "longitude", "units", "lang"],
      required: ["latitude", "longitude"],
    },
  };
  const names = Object.keys(stems) as (keyof typeof stems)[];
  await t.step("the names, inputs and required inputs of each", () => {
    for (const [kind, { names: actionNames, inputs, required }] of Object.entries(expected)) {
      for (const name of names) {
        for (const credentialType of CREDENTIAL_TYPES) {
          const exported = action(name, kind, credentialType);
          const { inputSchema } = exported.contract.input;
          // The top-level keys of an action as Genesys exports it (Actions → Export).
          assert.deepEqual(Object.keys(exported), [
            "name",
            "integrationType",
            "actionType",
            "config",
            "contract",
            "secure",
          ]);
          assert.equal(exported.name, actionNames[name]);
          assert.deepEqual(Object.keys(inputSchema.properties), inputs, kind);
          assert.deepEqual(inputSchema.required, required, kind);
          assert.equal(inputSchema.additionalProperties, true);
          assert.equal(inputSchema.$schema, "http://json-schema.org/draft-04/schema#");
        }
      }
    }
  });
  await t.step(
    "types and descriptions come from RequestFieldsSchema; coordinates are numbers",
    () => {
      for (const name of names) {
        for (const kind of Object.keys(expected)) {
          const { properties } = action(name, kind).contract.input.inputSchema;
          for (
            const [field, property] of Object.entries<{ type: string; description: string }>(
              properties,
            )
          ) {
            const declared = contract.get(field)!;
            assert.equal(property.description, declared.description, field);
            // The service takes a number or a numeric string; Genesys wants one type, so a Decimal.
            const type = ["latitude", "longitude"].includes(field) ? "number" : declared.type;
            assert.equal(property.type, type, field);
          }
        }
      }
      assert.equal(contract.get("latitude")!.type, "number or string");
    },
  );
  await t.step("the forecast takes the weather's request: the same inputs for each kind", () => {
    for (const kind of Object.keys(expected)) {
      const { title: weatherTitle, ...weather } = action("weather", kind).contract.input
        .inputSchema;
      const { title: forecastTitle, ...forecast } = action("forecast", kind).contract.input
        .inputSchema;
      assert.deepEqual(forecast, weather, kind);
      assert.equal(forecastTitle, weatherTitle.replace(/^Weather /, "Forecast "));
    }
  });
  await t.step("every request field is in some action, and units and lang in all", () => {
    assert.deepEqual(fieldsInNoAction(), []);
    assert.deepEqual([...ANSWER_INPUTS], ["units", "lang"]);
  });
  await t.step("each action's kinds share its route, request and output contract", () => {
    const paths = { weather: WEATHER_PATH, forecast: FORECAST_PATH };
    for (const name of names) {
      const city = action(name, "city");
      assert.equal(
        city.config.request.requestUrlTemplate,
        `https://YOUR-SERVICE-HOST${paths[name]}`,
      );
      assert.equal(SERVICE_ACTIONS[name].path, paths[name]);
      for (const kind of Object.keys(expected)) {
        assert.deepEqual(action(name, kind).config, city.config, kind);
        assert.deepEqual(action(name, kind).contract.output, city.contract.output, kind);
      }
    }
    // Only the route tells the two actions' requests apart.
    const weather = action("weather", "city").config;
    const forecast = action("forecast", "city").config;
    assert.deepEqual(
      { ...forecast, request: { ...forecast.request, requestUrlTemplate: "" } },
      { ...weather, request: { ...weather.request, requestUrlTemplate: "" } },
    );
  });
  await t.step("each action's output contract: its report's fields, then the error fields", () => {
    const reports = { weather: WeatherReportSchema, forecast: ForecastReportSchema };
    for (const name of names) {
      const { properties } = action(name, "city").contract.output.successSchema;
      assert.deepEqual(Object.keys(properties), [
        ...Object.keys(reports[name].shape),
        "error_code",
        "error_message",
      ]);
    }
    const weather = action("weather", "city").contract.output.successSchema.properties;
    for (const field of ["condition_group", "severe", "severe_reason", "summary", "lang"]) {
      assert.ok(field in weather, field);
    }
    assert.equal(weather.temperature_rounded.type, "integer");
    assert.equal(weather.severe.type, "boolean");
    const forecast = action("forecast", "city").contract.output.successSchema.properties;
    assert.equal(forecast.next_hours_precipitation_probability.type, "integer");
    assert.equal(forecast.next_hours_rain_expected.type, "boolean");
    assert.equal(forecast.today_temperature_min.type, "integer");
    assert.equal(forecast.forecast_at.type, "string");
    assert.equal("temperature" in forecast, false);
  });
});

Deno.test("customAuthAction() asks for a token with scope and audience only when given", async (t) => {
  const body = (options: TokenRequestOptions) =>
    new URLSearchParams(
      renderVelocity(customAuthAction(options).config.request.requestTemplate, {}),
    );
  await t.step("without: client credentials only (the committed file)", () => {
    const committed = JSON.parse(exportedFiles()["genesys/actions/custom-auth-action.json"]!);
    assert.equal(committed.config.request.requestTemplate, "grant_type=client_credentials");
    assert.deepEqual([...body({})], [["grant_type", "client_credentials"]]);
    assert.deepEqual([...body({ scope: "", audience: "" })], [[
      "grant_type",
      "client_credentials",
    ]]);
  });
  await t.step("Entra: scope", () => {
    const params = body({ scope: "api://0b6f-4c1e/.default" });
    assert.deepEqual([...params], [
      ["grant_type", "client_credentials"],
      ["scope", "api://0b6f-4c1e/.default"],
    ]);
  });
  await t.step("Auth0: audience, with a scope list", () => {
    assert.equal(
      tokenRequestBody({ scope: "weather.read openid", audience: "https://weather.example.com/" }),
      "grant_type=client_credentials&scope=weather.read+openid&audience=https%3A%2F%2Fweather.example.com%2F",
    );
  });
  await t.step("values cannot reach Velocity or split the form", () => {
    // $ and # are Velocity syntax; & and = would add parameters.
    const template = tokenRequestBody({ scope: "a$b#c&d=e" });
    assert.equal(template, "grant_type=client_credentials&scope=a%24b%23c%26d%3De");
    assert.equal(new URLSearchParams(template).get("scope"), "a$b#c&d=e");
  });
  await t.step("formEncode() is Go's url.QueryEscape, as Terraform's urlencode()", () => {
    // Go: url.QueryEscape keeps A-Z a-z 0-9 - _ . ~ and writes a space as "+".
    assert.equal(formEncode("A-z_0.9~ !*'()/:"), "A-z_0.9~+%21%2A%27%28%29%2F%3A");
    assert.equal(formEncode("\u00e9"), "%C3%A9");
  });
});
