/**
 * Everything between "the process started" and "a handler is ready", shared
 * by main.ts (a process, the compiled binary, the container) and serve.ts
 * (`deno serve`, Deno Deploy): configuration from the environment and
 * `.env`, the logger, start-up warnings, and the service.
 */

import { type Config, ConfigError, loadConfig, secretValues } from "./config.ts";
import { environmentWithEnvFile } from "./process/env_file.ts";
import { createLogger, type Logger } from "./process/log.ts";
import { SigningKeyError } from "./oauth/mod.ts";
import { SharedStoreError } from "./store/shared_store.ts";
import { createService, describeConfig, logStartupWarnings, type Service } from "./service.ts";

export interface Started {
  config: Config;
  logger: Logger;
  service: Service;
}

/** Start-up failed for a reason already logged; the process should exit 1. */
export class StartupError extends Error {
  override name = "StartupError";
}

export async function startFromEnvironment(): Promise<Started> {
  let config: Config;
  try {
    config = loadConfig(await environmentWithEnvFile());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger({ level: "error" }).error(error.message, { problems: error.problems });
    throw new StartupError(error.message, { cause: error });
  }

  const logger = createLogger({ level: config.logLevel, secrets: secretValues(config) });
  // Nothing may take the process down: a stray rejection is logged, not fatal.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    logger.error("Unhandled promise rejection", { error: event.reason });
  });
  logger.info("Configuration", describeConfig(config));
  logStartupWarnings(config, logger);

  try {
    return { config, logger, service: await createService(config, logger) };
  } catch (error) {
    if (!(error instanceof SigningKeyError) && !(error instanceof SharedStoreError)) throw error;
    logger.error(error.message);
    throw new StartupError(error.message, { cause: error });
  }
}
