import assert from "node:assert/strict";
import { exportedFiles } from "../src/genesys/export.ts";
import { genesysContractProblems, type JsonSchemaObject } from "../src/genesys/rules.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("genesys/ holds exactly what `deno task export-actions` produces from src/weather/contract.ts", () => {
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
  await t.step("the exported contract passes", () => {
    const action = JSON.parse(
      exportedFiles()["genesys/actions/get-current-weather.basic-auth.json"]!,
    );
    assert.deepEqual(
      genesysContractProblems(
        action.contract.input.inputSchema,
        action.contract.output.successSchema,
      ),
      [],
    );
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

Deno.test("the Terraform escapes Genesys templates and wires every resource", () => {
  const tf = JSON.parse(exportedFiles()["genesys/terraform/weather-action.tf.json"]!);
  const action = tf.resource.genesyscloud_integration_action.weather;
  assert.equal(action.config_request.request_template, "$${input.rawRequest}");
  assert.equal(action.config_request.headers.Authorization, "Bearer $${authResponse.token}");
  assert.equal(action.config_response.success_template, "$${rawResult}");
  assert.equal(action.integration_id, "${genesyscloud_integration.weather.id}");
  assert.ok(action.config_timeout_seconds >= 1 && action.config_timeout_seconds <= 60);
  const auth = tf.resource.genesyscloud_integration_custom_auth_action.weather;
  assert.equal(
    auth.config_request.headers.Authorization,
    'Basic $encoding.base64("$${credentials.clientId}:$${credentials.clientSecret}")',
  );
  assert.equal(
    tf.resource.genesyscloud_integration_credential.weather.credential_type_name,
    "userDefinedOAuth",
  );
  assert.equal(tf.variable.oauth_client_secret.sensitive, true);
  // Every "${" left unescaped is a Terraform reference, never a Genesys template.
  for (const match of JSON.stringify(tf).matchAll(/(?<!\$)\$\{([^}]*)\}/g)) {
    assert.match(match[1]!, /^(var\.|genesyscloud_)/, `unescaped template: ${match[0]}`);
  }
});
