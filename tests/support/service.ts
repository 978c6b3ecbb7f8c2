/**
 * Runs the real service (the same createService main.ts uses) on a loopback
 * port, with its log lines captured for assertions.
 */

import { type Config, loadConfig, secretValues } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { createService } from "../../src/service.ts";
import { TEST_API_KEY } from "./fake_openweather.ts";

export interface RunningService {
  readonly url: URL;
  readonly config: Config;
  /** Every log line written so far, raw, as it would reach stdout. */
  readonly logLines: string[];
  post(path: string, body: unknown, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export function testConfig(variables: Record<string, string>): Config {
  const env: Record<string, string> = {
    AUTH_MODE: "none",
    OPENWEATHER_API_KEY: TEST_API_KEY,
    LOG_LEVEL: "debug",
    ...variables,
  };
  return loadConfig((name) => env[name]);
}

export function startService(variables: Record<string, string>): RunningService {
  const config = testConfig(variables);
  const logLines: string[] = [];
  const logger = createLogger({
    level: config.logLevel,
    secrets: secretValues(config),
    write: (line) => logLines.push(line),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createService(config, logger),
  );
  const url = new URL(`http://127.0.0.1:${server.addr.port}`);
  return {
    url,
    config,
    logLines,
    post: (path, body, init = {}) =>
      fetch(new URL(path, url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
        ...init,
      }),
    close: () => server.shutdown(),
  };
}
