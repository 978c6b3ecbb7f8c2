/** The process's own settings: where it listens, how much it logs, how it stops. */

import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { isUnderProc } from "./secret_file.ts";
import type { VariableReader, VariableSpecs } from "./variables.ts";

export const PROCESS_VARIABLES = {
  HOST: { default: "0.0.0.0", meaning: "Interface to listen on" },
  PORT: { default: "8080", meaning: "Port to listen on, `0`–`65535` (`0` picks a free one)" },
  LOG_LEVEL: { default: "info", meaning: "`debug`, `info`, `warn` or `error`" },
  SHUTDOWN_GRACE_MS: {
    default: "10000",
    deployDefault: "4000",
    meaning:
      "On SIGTERM/SIGINT, how long requests in flight may take to finish before the process exits anyway (with code 1). On Deno Deploy at most `4500`: Deploy kills an instance 5 s after SIGINT",
  },
  CREDENTIALS_DIRECTORY: {
    meaning:
      "Set by systemd for a unit with `LoadCredential=`, never by you: `*_FILE` secrets may also be read from there. Refused under `/proc`, or when it leads there",
  },
  OTEL_DENO: {
    meaning:
      "Deno's own switch for its OpenTelemetry export (`true`). Read here too: while Deno may trace outbound calls (this set, or on Deno Deploy) OpenWeatherMap and the key set are called through undici, so no secret in their URLs is ever traced",
  },
  DENO_DEPLOY: {
    meaning:
      "Set to `true` by Deno Deploy, never by you: then no `.env` is read and the shutdown grace and request deadline default to fit Deploy's 5 s stop window",
  },
} as const satisfies VariableSpecs;

/**
 * Deno Deploy sends SIGINT, then SIGKILL 5 s later: the grace must end before
 * that, with time left to close connections and write the last log line.
 */
export const DEPLOY_MAX_SHUTDOWN_GRACE_MS = 4500;

export interface ProcessConfig {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /** DENO_DEPLOY=true: running on Deno Deploy. */
  readonly onDenoDeploy: boolean;
  /** Deno may trace outbound calls (OTEL_DENO, or always on Deno Deploy): hide their URLs. */
  readonly outboundTraced: boolean;
}

export function readProcessConfig(
  vars: VariableReader<keyof typeof PROCESS_VARIABLES>,
): ProcessConfig {
  const credentialsDirectory = vars.optionalText("CREDENTIALS_DIRECTORY");
  if (credentialsDirectory !== undefined && isUnderProc(credentialsDirectory)) {
    vars.problem(
      `CREDENTIALS_DIRECTORY must not be under /proc (there a process's environment and memory are files), got "${credentialsDirectory}"`,
    );
  }
  return {
    host: vars.text("HOST"),
    port: vars.integer("PORT", { min: 0, max: 65535 }),
    logLevel: vars.oneOf("LOG_LEVEL", LOG_LEVELS),
    shutdownGraceMs: vars.integer("SHUTDOWN_GRACE_MS", {
      min: 0,
      max: vars.onDeploy ? DEPLOY_MAX_SHUTDOWN_GRACE_MS : 600_000,
    }),
    onDenoDeploy: vars.onDeploy,
    outboundTraced: vars.onDeploy || mayTurnOnTracing(vars.optionalText("OTEL_DENO")),
  };
}

/**
 * Whether Deno may export traces. Anything but unset, `false` or `0` counts,
 * so a value Deno accepts and this list does not know errs on the safe side.
 */
function mayTurnOnTracing(value: string | undefined): boolean {
  return value !== undefined && !["false", "0"].includes(value.toLowerCase());
}
