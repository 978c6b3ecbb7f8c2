/**
 * `deno task demo`: the service answering a contact-centre flow, in one
 * command, with no OpenWeatherMap key, no Genesys organisation and no
 * network.
 *
 * It starts the real service twice on loopback, once per credential type
 * Genesys offers (Basic Auth, and User Defined (OAuth) against the built-in
 * token endpoint), beside an OpenWeatherMap stand-in with a handful of
 * places (tools/demo/openweather_stand_in.ts). Then it runs the generated
 * Genesys actions under genesys/actions/ through the executor `deno task
 * invoke` uses, and prints what Architect receives: first the cases a flow
 * meets, then every generated action once.
 *
 * The outage case moves the demo's clock past the cache's time to live
 * instead of waiting ten minutes. It exits 0 when every case gave the
 * answer it shows, 1 otherwise.
 */

import { type ActionDefinition, readActionDefinition } from "../tools/genesys/action_definition.ts";
import {
  actionFileName,
  type ActionName,
  ACTIONS,
  committedActionUrl,
  customAuthAction,
  PLACE_KINDS,
  type PlaceKind,
} from "../tools/genesys/actions.ts";
import {
  type ActionInput,
  createExecutor,
  type Execution,
  type Executor,
} from "../tools/genesys/executor.ts";
import {
  DEMO_API_KEY,
  type OpenWeatherStandIn,
  startOpenWeatherStandIn,
} from "../tools/demo/openweather_stand_in.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/process/log.ts";
import { createService } from "../src/service.ts";
import { TOKEN_PATH } from "../src/oauth/documents.ts";

const encoder = new TextEncoder();
const say = (line = "") => Deno.stdout.writeSync(encoder.encode(line + "\n"));

/** The demo's own credentials: made up, and only ever sent to loopback. */
const DEMO_USER = "genesys-demo";
const DEMO_SECRET = "demo-secret-not-for-production-0123456789";
const CACHE_TTL_S = 600;

type CredentialType = "basic-auth" | "user-defined-oauth";

interface DemoService extends AsyncDisposable {
  url: string;
  /** Log lines that are warnings or errors, shown when a case goes wrong. */
  problems: string[];
}

/** The real service, in this process, on a loopback port, with its log kept aside. */
async function startDemoService(
  variables: Record<string, string>,
  standIn: OpenWeatherStandIn,
  now: () => number,
): Promise<DemoService> {
  const config = loadConfig((name) =>
    ({
      OPENWEATHER_API_KEY: DEMO_API_KEY,
      OPENWEATHER_BASE_URL: standIn.currentUrl.href,
      OPENWEATHER_FORECAST_URL: standIn.forecastUrl.href,
      WEATHER_CACHE_TTL_S: String(CACHE_TTL_S),
      LOG_LEVEL: "warn",
      ...variables,
    })[name]
  );
  const problems: string[] = [];
  const logger = createLogger({ level: config.logLevel, write: (line) => problems.push(line) });
  const service = await createService(config, logger, { now });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    service.handler,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    problems,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await service.close();
    },
  };
}

function readAction(action: ActionName, kind: PlaceKind, type: CredentialType): ActionDefinition {
  const file = committedActionUrl(action, kind, type);
  const read = readActionDefinition(file);
  if (!read.ok) throw new Error(`${file.pathname}: ${read.message}`);
  return read.definition;
}

/** One row of a table: what was asked, and what Architect got. */
interface Row {
  label: string;
  action: string;
  execution: Execution;
  /** False when the answer is not the one this case shows: the demo then fails. */
  asExpected: boolean;
}

function describe(execution: Execution): { path: string; answer: string } {
  if (execution.path !== "success") {
    return {
      path: execution.path === "timeout" ? "Timeout" : "Failure",
      answer: execution.message,
    };
  }
  const { output } = execution;
  if (typeof output.error_code === "string") {
    return {
      path: "Success",
      answer: `error_code ${output.error_code}: ${String(output.error_message)}`,
    };
  }
  return {
    path: "Success",
    answer: `${String(output.summary)}${output.stale === true ? " (stale: true)" : ""}`,
  };
}

function printTable(firstColumn: string, rows: Row[]): void {
  const cells = rows.map((row) => {
    const { path, answer } = describe(row.execution);
    return [row.label, row.action, path, answer];
  });
  const header = [firstColumn, "Action", "Path", "What Architect receives"];
  const widths = header.slice(0, 3).map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => cell[column]!.length))
  );
  const line = (cell: string[]) =>
    cell.map((text, column) => column < 3 ? text.padEnd(widths[column]!) : text).join("  ");
  say(line(header));
  say(line(widths.map((width) => "-".repeat(width)).concat("-".repeat(24))));
  for (const cell of cells) say(line(cell));
}

const isSuccess = (execution: Execution) =>
  execution.path === "success" && execution.output.error_code === undefined;
const errorCode = (execution: Execution) =>
  execution.path === "success" ? execution.output.error_code : undefined;

/** An input for each kind of place, for the round of every generated action. */
const PLACE_INPUTS: Record<PlaceKind, ActionInput> = {
  city: { city_name: "London", country_code: "GB" },
  postal_code: { postal_code: "10001", country_code: "US" },
  coordinates: { latitude: 35.6895, longitude: 139.6917 },
};

async function main(): Promise<number> {
  const started = performance.now();
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  await using standIn = startOpenWeatherStandIn({ now });
  await using basic = await startDemoService(
    {
      AUTH_MODE: "basic",
      BASIC_AUTH_USER: DEMO_USER,
      BASIC_AUTH_PASSWORD: DEMO_SECRET,
    },
    standIn,
    now,
  );
  await using oauth = await startDemoService(
    {
      AUTH_MODE: "jwt",
      OAUTH_CLIENT_ID: DEMO_USER,
      OAUTH_CLIENT_SECRET: DEMO_SECRET,
      PUBLIC_URL: "https://weather.demo.invalid",
    },
    standIn,
    now,
  );
  // The generator of the committed custom-auth-action.json (a test holds them equal).
  const customAuth = customAuthAction();
  const executors: Record<CredentialType, Executor> = {
    "basic-auth": createExecutor({
      serviceUrl: basic.url,
      credentials: { type: "basic", user: DEMO_USER, password: DEMO_SECRET },
      organizationId: "demo-organization",
    }),
    "user-defined-oauth": createExecutor({
      serviceUrl: oauth.url,
      credentials: {
        type: "oauth",
        customAuth,
        fields: {
          loginUrl: `${oauth.url}${TOKEN_PATH}`,
          clientId: DEMO_USER,
          clientSecret: DEMO_SECRET,
        },
      },
      organizationId: "demo-organization",
      now,
    }),
  };

  const run = async (
    label: string,
    action: ActionName,
    kind: PlaceKind,
    input: ActionInput,
    expected: (execution: Execution) => boolean,
    type: CredentialType = "user-defined-oauth",
  ): Promise<Row> => {
    const definition = readAction(action, kind, type);
    const execution = await executors[type].execute(definition, input);
    return {
      label,
      action: actionFileName(action, kind, type).replace(/\.json$/, ""),
      execution,
      asExpected: expected(execution),
    };
  };

  const cases: Row[] = [];
  cases.push(
    await run("A city", "weather", "city", { city_name: "London" }, isSuccess),
    await run(
      "A postal code (keypad)",
      "weather",
      "postal_code",
      { postal_code: "10001", country_code: "US" },
      isSuccess,
    ),
    await run(
      "Coordinates (CRM)",
      "weather",
      "coordinates",
      { latitude: 35.6895, longitude: 139.6917 },
      isSuccess,
    ),
    await run(
      "Call.Language es-us",
      "weather",
      "city",
      { city_name: "Madrid", lang: "es-us" },
      (execution) =>
        isSuccess(execution) && execution.path === "success" &&
        execution.output.lang === "es",
    ),
    await run("A forecast", "forecast", "city", { city_name: "New York" }, isSuccess),
    await run(
      "An unknown place",
      "weather",
      "city",
      { city_name: "Atlantis" },
      (execution) => errorCode(execution) === "CITY_NOT_FOUND",
    ),
  );
  // Eleven minutes later, OpenWeatherMap is down: London's answer is past its TTL, but kept.
  offsetMs += (CACHE_TTL_S + 60) * 1000;
  standIn.outage = true;
  cases.push(
    await run(
      "Outage, 11 min later",
      "weather",
      "city",
      { city_name: "London" },
      (execution) => execution.path === "success" && execution.output.stale === true,
    ),
  );
  standIn.outage = false;
  cases.push(
    await run(
      "An unusable value",
      "weather",
      "coordinates",
      { latitude: 91, longitude: 0 },
      (execution) => errorCode(execution) === "INVALID_INPUT",
    ),
  );

  const everyAction: Row[] = [];
  for (const type of ["basic-auth", "user-defined-oauth"] as const) {
    for (const action of ACTIONS) {
      for (const kind of PLACE_KINDS) {
        everyAction.push(await run(`${type}`, action, kind, PLACE_INPUTS[kind], isSuccess, type));
      }
    }
  }

  say("What Architect receives, for the cases a flow meets:");
  say();
  printTable("Case", cases);
  say();
  say(`Every generated action in genesys/actions/ (${everyAction.length}), once:`);
  say();
  printTable("Credential type", everyAction);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const calls = standIn.requestCount;
  say();
  const wrong = [...cases, ...everyAction].filter((row) => !row.asExpected);
  if (wrong.length > 0) {
    say(`Not as expected: ${wrong.map((row) => `${row.label} (${row.action})`).join(", ")}`);
    for (const line of [...basic.problems, ...oauth.problems]) say(line);
    return 1;
  }
  say(
    `All ${
      cases.length + everyAction.length
    } executions as expected in ${seconds} s, with ${calls} calls to the OpenWeatherMap stand-in.`,
  );
  say("Next: a real key and `deno task start` (README.md, Quick start).");
  return 0;
}

Deno.exit(await main());
