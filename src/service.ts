/**
 * Wires the real parts together from a Config: the one composition root that
 * `main.ts` (a process, a binary, a container) and the `deno serve` entry share.
 */

import { createHandler, type Handler } from "./app.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { createOpenWeatherClient } from "./openweather.ts";
import { createWeatherAction } from "./weather_action.ts";

export function createService(config: Config, logger: Logger): Handler {
  const weather = createOpenWeatherClient(config.openWeather);
  return createHandler({ weatherAction: createWeatherAction({ weather }), logger });
}

/** Says loudly, at start, anything about the configuration that an operator must not miss. */
export function logStartupWarnings(config: Config, logger: Logger): void {
  if (config.auth.mode === "none") {
    logger.warn(
      'AUTH_MODE is "none": POST /data-action/weather is open to anyone who can reach it. ' +
        "Use this only behind another layer that authenticates callers.",
    );
  }
}
