/**
 * createExecutor() against loopback stand-ins for a data action's web service
 * and a token endpoint: every outcome Architect can see, the headers Genesys
 * adds, and the custom auth token's reuse, on an injected clock.
 */

import assert from "node:assert/strict";
import type { ActionDefinition } from "../../tools/genesys/action_definition.ts";
import { parseActionDefinition } from "../../tools/genesys/action_definition.ts";
import { customAuthAction } from "../../tools/genesys/actions.ts";
import { createExecutor, type Credentials } from "../../tools/genesys/executor.ts";
import { TestClock } from "../support/clock.ts";
import { WAIT_MS, within } from "../support/wait.ts";

type Handler = (request: Request, body: string) => Response | Promise<Response>;

/** A loopback web service: the test sets how it answers, and reads what it received. */
function startStandIn(handler: Handler) {
  const received: { url: URL; headers: Headers; body: string }[] = [];
  let answer = handler;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      received.push({ url: new URL(request.url), headers: request.headers, body });
      return answer(request, body);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    answerWith(next: Handler) {
      answer = next;
    },
    [Symbol.asyncDispose]: () => within(WAIT_MS, server.shutdown(), "the stand-in to stop"),
  };
}

/** An action like the ones admins write: a GET with a query built from inputs, a translation map. */
function weatherLookup(url: string, timeoutSeconds = 5): ActionDefinition {
  const parsed = parseActionDefinition({
    name: "Look up the weather",
    config: {
      request: {
        requestUrlTemplate: `${url}/lookup?q=$esc.url($input.city)` +
          '$urlTool.optionalQueryParam("lang", $input.lang)',
        requestType: "GET",
        headers: { Authorization: "Bearer $!{authResponse.token}" },
      },
      response: {
        translationMap: { description: "$.weather[0].description", temp: "$.main.temp" },
        translationMapDefaults: {},
        successTemplate: '{"condition": ${description}, "temperature": ${temp}}',
      },
      timeoutSeconds,
    },
    contract: {
      input: {
        inputSchema: {
          type: "object",
          required: ["city"],
          properties: { city: { type: "string" }, lang: { type: "string" } },
        },
      },
      output: {
        successSchema: {
          type: "object",
          properties: { condition: { type: "string" }, temperature: { type: "number" } },
        },
      },
    },
  });
  assert.ok(parsed.ok);
  return parsed.definition;
}

const WEATHER = { weather: [{ description: "light rain" }], main: { temp: 11.05 } };

Deno.test("createExecutor() gives Architect's path for every outcome, and never throws", async (t) => {
  await using service = startStandIn(() => Response.json(WEATHER));
  const lines: string[] = [];
  const executor = createExecutor({
    credentials: { type: "none" },
    organizationId: "org-1",
    report: (line) => lines.push(line),
  });
  const action = weatherLookup(service.url);
  await t.step(
    "Success: the URL's templates, the translation map, the success template",
    async () => {
      const execution = await executor.execute(action, { city: "New York, US", lang: "es" });
      assert.deepEqual(execution, {
        path: "success",
        output: { condition: "light rain", temperature: 11.05 },
        notInContract: [],
      });
      const { url, headers } = service.received.at(-1)!;
      assert.equal(url.search, "?q=New+York%2C+US&lang=es");
      assert.equal(headers.get("ININ-Organization-Id"), "org-1");
      assert.match(headers.get("ININ-Correlation-Id")!, /^[0-9a-f-]{36}$/);
      // An unset $!{authResponse.token}: nothing, and HTTP trims the space before it.
      assert.equal(headers.get("Authorization"), "Bearer");
      assert.match(
        lines.join("\n"),
        /Step 2 \(action request\): GET http:\/\/\S+\/lookup\?q=New\+York/,
      );
    },
  );
  await t.step("each execution has its own correlation id", async () => {
    await executor.execute(action, { city: "Paris" });
    const ids = service.received.slice(-2).map(({ headers }) => headers.get("ININ-Correlation-Id"));
    assert.notEqual(ids[0], ids[1]);
  });
  await t.step("the input contract is checked first: nothing is sent", async () => {
    const before = service.received.length;
    const execution = await executor.execute(action, { lang: "en" });
    assert.equal(execution.path, "failure");
    assert.match(
      (execution as { message: string }).message,
      /input contract.*required property 'city'/,
    );
    assert.equal(service.received.length, before);
  });
  const failures: [string, Handler, RegExp][] = [
    [
      "a non-2xx answer",
      () => Response.json({ error: "nope" }, { status: 503 }),
      /^Step 2 \(action request\) failed: HTTP 503/,
    ],
    [
      "a 200 that is not JSON",
      () => new Response("<html>proxy error</html>"),
      /^Step 3 \(response\) failed: the answer \(HTTP 200\) is not JSON: <html>proxy error<\/html>$/,
    ],
    [
      "a path that finds nothing, with no default",
      () => Response.json({ main: { temp: 3 } }),
      /^Step 3 \(response\) failed: The translation map's "description"/,
    ],
    [
      "a value that breaks the output contract",
      () => Response.json({ weather: [{ description: 7 }], main: { temp: 1 } }),
      /^Step 3 \(output contract\) failed: data\/condition must be string$/,
    ],
  ];
  for (const [what, answer, message] of failures) {
    await t.step(`Failure: ${what}`, async () => {
      service.answerWith(answer);
      const execution = await executor.execute(action, { city: "London" });
      assert.equal(execution.path, "failure", JSON.stringify(execution));
      assert.match((execution as { message: string }).message, message);
    });
  }
  await t.step("Failure: a success template that makes no JSON", async () => {
    service.answerWith(() => Response.json(WEATHER));
    const broken = structuredClone(action);
    broken.config.response.successTemplate = '{"condition": ${description}';
    const execution = await executor.execute(broken, { city: "London" });
    assert.deepEqual(execution, {
      path: "failure",
      message:
        'Step 3 (response) failed: the success template did not make JSON: {"condition": "light rain"',
    });
  });
  await t.step("Failure: a service that cannot be reached", async () => {
    const execution = await executor.execute(weatherLookup("http://127.0.0.1:9"), {
      city: "London",
    });
    assert.equal(execution.path, "failure");
    assert.match((execution as { message: string }).message, /could not be reached/);
  });
  await t.step("Failure: a template Velocity cannot parse", async () => {
    const broken = structuredClone(action);
    broken.config.request.requestUrlTemplate = `${service.url}/#if($input.city`;
    const execution = await executor.execute(broken, { city: "London" });
    assert.equal(execution.path, "failure");
    assert.match(
      (execution as { message: string }).message,
      /^Step 2 \(action request\) failed: The template cannot be parsed/,
    );
  });
  await t.step("Timeout: no answer within the action's timeoutSeconds", async () => {
    const { promise: never, resolve: release } = Promise.withResolvers<Response>();
    service.answerWith(() => never);
    const execution = await executor.execute(weatherLookup(service.url, 1), { city: "London" });
    release(Response.json(WEATHER));
    assert.deepEqual(execution, {
      path: "timeout",
      message: "Step 2 (action request): no answer within 1 s",
    });
  });
});

Deno.test("createExecutor() reuses the custom auth token until it expires or a 401 comes", async (t) => {
  const clock = new TestClock();
  let issued = 0;
  let valid = "";
  const tokenRequests: { authorization: string | null; body: string }[] = [];
  await using idp = startStandIn((request, body) => {
    tokenRequests.push({ authorization: request.headers.get("authorization"), body });
    valid = `token-${++issued}`;
    return Response.json({ access_token: valid, token_type: "Bearer", expires_in: 600 });
  });
  await using service = startStandIn((request) =>
    request.headers.get("authorization") === `Bearer ${valid}`
      ? Response.json(WEATHER)
      : Response.json({ error: "invalid_token" }, { status: 401 })
  );
  const lines: string[] = [];
  const credentials: Credentials = {
    type: "oauth",
    customAuth: customAuthAction(),
    fields: {
      loginUrl: `${idp.url}/oauth/token`,
      clientId: 'id "quoted"',
      clientSecret: 'se\\cr"et–日本',
    },
  };
  const executor = createExecutor({
    credentials,
    organizationId: "org-1",
    now: clock.now,
    report: (line) => lines.push(line),
  });
  const action = weatherLookup(service.url);
  await t.step(
    "the first run asks for a token; the secret's characters reach the endpoint intact",
    async () => {
      assert.equal((await executor.execute(action, { city: "London" })).path, "success");
      assert.equal(tokenRequests.length, 1);
      const basic = tokenRequests[0]!.authorization!.replace(/^Basic /, "");
      const decoded = new TextDecoder().decode(
        Uint8Array.from(atob(basic), (char) => char.charCodeAt(0)),
      );
      assert.equal(decoded, 'id "quoted":se\\cr"et–日本');
      assert.equal(tokenRequests[0]!.body, "grant_type=client_credentials");
    },
  );
  await t.step("later runs reuse it while it lasts", async () => {
    clock.advance(599_000);
    assert.equal((await executor.execute(action, { city: "London" })).path, "success");
    assert.equal(tokenRequests.length, 1);
    assert.match(lines.join("\n"), /reused the token/);
  });
  await t.step("once expires_in has passed, a new one", async () => {
    clock.advance(2_000);
    assert.equal((await executor.execute(action, { city: "London" })).path, "success");
    assert.equal(tokenRequests.length, 2);
  });
  await t.step("a 401 before then: a new token, and the request once more", async () => {
    valid = "revoked-everything";
    const execution = await executor.execute(action, { city: "London" });
    assert.equal(execution.path, "success", JSON.stringify(execution));
    assert.equal(tokenRequests.length, 3);
    assert.match(lines.join("\n"), /HTTP 401; the custom auth action runs again/);
  });
  await t.step("a 401 with a fresh token is the Failure path, not a loop", async () => {
    service.answerWith(() => Response.json({ error: "invalid_token" }, { status: 401 }));
    const execution = await executor.execute(action, { city: "London" });
    assert.equal(execution.path, "failure");
    assert.equal(tokenRequests.length, 4);
  });
  await t.step("a token got in this very run and refused: no second custom auth run", async () => {
    clock.advance(601_000);
    const execution = await executor.execute(action, { city: "London" });
    assert.equal(execution.path, "failure");
    assert.equal(tokenRequests.length, 5);
  });
});
