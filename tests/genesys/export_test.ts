import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../../src/config.ts";
import {
  ACTION_TIMEOUT_S,
  actionFileName,
  ANSWER_INPUTS,
  CREDENTIAL_TYPES,
  customAuthAction,
  fieldsInNoAction,
  formEncode,
  PLACE_KINDS,
  SERVICE_DEADLINE_MS,
  tokenRequestBody,
  type TokenRequestOptions,
} from "../../tools/genesys/actions.ts";
import { contractFields, RequestFieldsSchema } from "../../tools/contract_schema.ts";
import { exportedFiles } from "../../tools/genesys/export.ts";
import { renderTemplate } from "../../tools/genesys/template.ts";
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

Deno.test("genesysContractProblems() enforces Genesys's contract rules", async (t) => {
  const ok: JsonSchemaObject = {
    type: "object",
    properties: { city_name: { type: "string", description: "x" } },
  };
  await t.step("every exported action passes", () => {
    for (const kind of PLACE_KINDS) {
      const action = JSON.parse(exportedFiles()[actionPath(kind, "basic-auth")]!);
      assert.deepEqual(
        genesysContractProblems(
          action.contract.input.inputSchema,
          action.contract.output.successSchema,
        ),
        [],
        kind,
      );
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
  for (const credentialType of CREDENTIAL_TYPES) {
    for (const kind of PLACE_KINDS) {
      const action = JSON.parse(files[actionPath(kind, credentialType)]!);
      // Genesys: "Optional 1-60 second timeout" (provider docs/resources/integration_action.md);
      // the API's Actionconfig field is timeoutSeconds (provider
      // genesyscloud/integration_action/resource_genesyscloud_integration_action_utils.go).
      assert.equal(action.config.timeoutSeconds, ACTION_TIMEOUT_S, `${kind} ${credentialType}`);
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

Deno.test("dataAction() makes one action per kind of place, each asking only for its own inputs", async (t) => {
  const files = exportedFiles();
  const action = (kind: string, credentialType = "basic-auth") =>
    JSON.parse(files[`genesys/actions/get-current-weather-by-${kind}.${credentialType}.json`]!);
  const contract = new Map(
    contractFields(RequestFieldsSchema, "input").map((field) => [field.name, field]),
  );
  const expected = {
    "city": {
      name: "Get current weather by city",
      inputs: ["city_name", "country_code", "units", "lang"],
      required: ["city_name"],
    },
    "postal-code": {
      name: "Get current weather by postal code",
      inputs: ["postal_code", "country_code", "units", "lang"],
      required: ["postal_code", "country_code"],
    },
    "coordinates": {
      name: "Get current weather by coordinates",
      inputs: ["latitude", "longitude", "units", "lang"],
      required: ["latitude", "longitude"],
    },
  };
  await t.step("the names, inputs and required inputs of each", () => {
    for (const [kind, { name, inputs, required }] of Object.entries(expected)) {
      for (const credentialType of CREDENTIAL_TYPES) {
        const { inputSchema } = action(kind, credentialType).contract.input;
        // The top-level keys of an action as Genesys exports it (Actions → Export).
        assert.deepEqual(Object.keys(action(kind, credentialType)), [
          "name",
          "integrationType",
          "actionType",
          "config",
          "contract",
          "secure",
        ]);
        assert.equal(action(kind, credentialType).name, name);
        assert.deepEqual(Object.keys(inputSchema.properties), inputs, kind);
        assert.deepEqual(inputSchema.required, required, kind);
        assert.equal(inputSchema.additionalProperties, true);
        assert.equal(inputSchema.$schema, "http://json-schema.org/draft-04/schema#");
      }
    }
  });
  await t.step(
    "types and descriptions come from RequestFieldsSchema; coordinates are numbers",
    () => {
      for (const kind of Object.keys(expected)) {
        const { properties } = action(kind).contract.input.inputSchema;
        for (
          const [name, property] of Object.entries<{ type: string; description: string }>(
            properties,
          )
        ) {
          const field = contract.get(name)!;
          assert.equal(property.description, field.description, name);
          // The service takes a number or a numeric string; Genesys wants one type, so a Decimal.
          const type = ["latitude", "longitude"].includes(name) ? "number" : field.type;
          assert.equal(property.type, type, name);
        }
      }
      assert.equal(contract.get("latitude")!.type, "number or string");
    },
  );
  await t.step("every request field is in some action, and units and lang in all", () => {
    assert.deepEqual(fieldsInNoAction(), []);
    assert.deepEqual([...ANSWER_INPUTS], ["units", "lang"]);
  });
  await t.step("every action has the same request and output contract", () => {
    const city = action("city");
    for (const kind of Object.keys(expected)) {
      assert.deepEqual(action(kind).config, city.config, kind);
      assert.deepEqual(action(kind).contract.output, city.contract.output, kind);
    }
    const { properties } = city.contract.output.successSchema;
    for (const name of ["condition_group", "severe", "severe_reason", "summary", "lang"]) {
      assert.ok(name in properties, name);
    }
    assert.equal(properties.temperature_rounded.type, "integer");
    assert.equal(properties.severe.type, "boolean");
  });
});

Deno.test("customAuthAction() asks for a token with scope and audience only when given", async (t) => {
  const body = (options: TokenRequestOptions) =>
    new URLSearchParams(
      renderTemplate(customAuthAction(options).config.request.requestTemplate, {}),
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
