/**
 * genesys-weather-action as a process, the compiled binary, or a container:
 *
 *   genesys-weather-action              serve (configured by environment and .env)
 *   genesys-weather-action healthcheck  exit 0 when this host's /healthz answers
 *   genesys-weather-action --version | --help
 *
 * Serving shuts down cleanly on SIGTERM/SIGINT, letting requests in flight
 * finish within SHUTDOWN_GRACE_MS.
 */

import denoJson from "./deno.json" with { type: "json" };
import { loadConfig } from "./src/config.ts";
import { environmentWithEnvFile } from "./src/process/env_file.ts";
import { errorResponse } from "./src/http/responses.ts";
import { RequestError } from "./src/http/errors.ts";
import { onFirstSignal, stopGracefully } from "./src/process/drain.ts";
import { startFromEnvironment, StartupError } from "./src/startup.ts";

const USAGE = `genesys-weather-action ${denoJson.version}
The backend of a Genesys Cloud Web Services Data Action: current weather from OpenWeatherMap.

Usage:
  genesys-weather-action              Serve POST /data-action/weather (configured by environment and .env)
  genesys-weather-action healthcheck  Exit 0 if the service on this host answers GET /healthz, else 1
  genesys-weather-action --version    Print the version
  genesys-weather-action --help       Print this help

Configuration: see docs/configuration.md (OPENWEATHER_API_KEY and AUTH_MODE settings are required).
`;

const encoder = new TextEncoder();
function print(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}

async function serve(): Promise<number> {
  let started;
  try {
    started = await startFromEnvironment();
  } catch (error) {
    if (error instanceof StartupError) return 1;
    throw error;
  }
  const { config, logger, service } = started;

  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) =>
      logger.info("Listening", { url: `http://${hostname}:${port}` }),
    onError: (error) => {
      logger.error("Unhandled error", { error });
      return errorResponse(new RequestError("INTERNAL_ERROR", "Internal error"));
    },
  }, service.handler);

  return await new Promise<number>((resolve) => {
    onFirstSignal(["SIGTERM", "SIGINT"], (signal) => {
      server.shutdown();
      resolve(stopGracefully({
        signal,
        graceMs: config.shutdownGraceMs,
        logger,
        drained: server.finished,
        close: () => service.close(),
      }));
    });
  });
}

/** For container health checks: the binary checks its own /healthz, no curl needed. */
async function healthcheck(): Promise<number> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = loadConfig(await environmentWithEnvFile()));
  } catch {
    return 1; // A configuration the service cannot start with is not healthy.
  }
  const target = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  try {
    const response = await fetch(
      `http://${target.includes(":") ? `[${target}]` : target}:${port}/healthz`,
      {
        signal: AbortSignal.timeout(3000),
      },
    );
    await response.body?.cancel();
    return response.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}

async function run(args: string[]): Promise<number> {
  switch (args[0]) {
    case undefined:
      return await serve();
    case "healthcheck":
      return await healthcheck();
    case "--version":
    case "-V":
      print(`${denoJson.version}\n`);
      return 0;
    case "--help":
    case "-h":
      print(USAGE);
      return 0;
    default:
      Deno.stderr.writeSync(encoder.encode(`Unknown argument "${args[0]}"\n\n${USAGE}`));
      return 2;
  }
}

if (import.meta.main) Deno.exit(await run(Deno.args));
