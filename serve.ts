/**
 * The entry for `deno serve serve.ts` and Deno Deploy: the same service as
 * main.ts, as a default export. (`deno compile` builds from main.ts: a
 * compiled default export does not serve.)
 *
 * On Deploy, configuration comes from the project's environment variables
 * and secrets (no `.env`); each instance has its own verification cache and
 * throttles, and shares the weather cache and the OpenWeatherMap budget
 * through Deploy's KV when SHARED_STORE_URL is `kv:`. Runs on Deno 2.5.0 and
 * later: Deploy chooses the version, so this file and everything it loads
 * must not need a newer one (tests/deploy_start_test.ts runs it on the oldest).
 *
 * A configuration the service cannot start with has been logged once, as one
 * JSON line naming each variable and what it expects; the process then exits
 * 1 (on Deploy the instance fails to start and callers get 502).
 */

import { drainOnSignals } from "./src/process/drain.ts";
import { flushLogs } from "./src/process/log.ts";
import { type Started, startFromEnvironment, StartupError } from "./src/startup.ts";

let started: Started;
try {
  started = await startFromEnvironment();
} catch (error) {
  if (error instanceof StartupError) Deno.exit(1);
  throw error;
}
const { config, logger, service } = started;

// Deploy stops an instance with SIGINT; a supervisor running `deno serve` may send SIGTERM.
const { handler } = drainOnSignals({
  handler: service.handler,
  graceMs: config.shutdownGraceMs,
  logger,
  close: () => service.close(),
  signals: Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"],
});

// The start-up lines go out before `deno serve` says "Listening" on stderr, as they did
// before log lines were batched: whoever watches for it finds the configuration logged.
flushLogs();

export default { fetch: handler } satisfies Deno.ServeDefaultExport;
