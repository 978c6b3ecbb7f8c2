/** The process's own settings: where it listens, how much it logs, how it stops. */

import { LOG_LEVELS, type LogLevel } from "./log.ts";
import type { VariableReader, VariableSpecs } from "./variables.ts";

export const PROCESS_VARIABLES = {
  HOST: { default: "0.0.0.0", meaning: "Interface to listen on" },
  PORT: { default: "8080", meaning: "Port to listen on, `0`–`65535` (`0` picks a free one)" },
  LOG_LEVEL: { default: "info", meaning: "`debug`, `info`, `warn` or `error`" },
  SHUTDOWN_GRACE_MS: {
    default: "10000",
    meaning:
      "On SIGTERM/SIGINT, how long requests in flight may take to finish before the process exits anyway (with code 1)",
  },
} as const satisfies VariableSpecs;

export interface ProcessConfig {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
}

export function readProcessConfig(
  vars: VariableReader<keyof typeof PROCESS_VARIABLES>,
): ProcessConfig {
  return {
    host: vars.text("HOST"),
    port: vars.integer("PORT", { min: 0, max: 65535 }),
    logLevel: vars.oneOf("LOG_LEVEL", LOG_LEVELS),
    shutdownGraceMs: vars.integer("SHUTDOWN_GRACE_MS", { min: 0, max: 600_000 }),
  };
}
