/**
 * Starts genesys-weather-action: reads the configuration (environment over
 * `.env`), serves the Data Action, and shuts down cleanly on SIGTERM/SIGINT,
 * letting requests in flight finish before exiting 0.
 */

import { ConfigError, loadConfig, secretValues } from "./src/config.ts";
import { environmentWithEnvFile } from "./src/env_file.ts";
import { errorResponse } from "./src/http.ts";
import { RequestError } from "./src/http_errors.ts";
import { createLogger } from "./src/log.ts";
import { SigningKeyError } from "./src/oauth/signing_key.ts";
import { createService, describeConfig, logStartupWarnings } from "./src/service.ts";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(environmentWithEnvFile());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger({ level: "error" }).error(error.message, { problems: error.problems });
    return 1;
  }

  const logger = createLogger({ level: config.logLevel, secrets: secretValues(config) });
  // Nothing may take the process down: a stray rejection is logged, not fatal.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    logger.error("Unhandled promise rejection", { error: event.reason });
  });
  logger.info("Configuration", describeConfig(config));
  logStartupWarnings(config, logger);

  let service;
  try {
    service = await createService(config, logger);
  } catch (error) {
    if (!(error instanceof SigningKeyError)) throw error;
    logger.error(error.message);
    return 1;
  }

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

  const { promise: graceOver, resolve: endGrace } = Promise.withResolvers<"cut off">();
  let shuttingDown = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => {
      // A supervisor and a task runner may both forward the same signal.
      if (shuttingDown) return;
      shuttingDown = true;
      logger.info("Shutting down", { signal, grace_ms: config.shutdownGraceMs });
      server.shutdown();
      setTimeout(() => endGrace("cut off"), config.shutdownGraceMs);
    });
  }
  const outcome = await Promise.race([server.finished.then(() => "drained" as const), graceOver]);
  if (outcome === "cut off") {
    logger.warn("Shutdown grace period over; requests still in flight are cut off");
    return 1;
  }
  await service.close();
  logger.info("Stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
