/**
 * The real Prometheus tools for the monitoring tests: `promtool` runs as a
 * command, and a `prometheus` server runs on a free loopback port with a
 * throw-away TSDB. Both come from Debian's `prometheus` package, which
 * `.ci/run` installs; a missing binary fails the test, it never skips it.
 */

import { freePort } from "./free_port.ts";
import { killAndWait, runToEnd } from "./process.ts";
import { fetchWithin, pollUntil, WAIT_MS } from "./wait.ts";

export interface CommandResult {
  code: number;
  output: string;
}

/** Runs a Prometheus binary and returns its exit code with stdout and stderr together. */
export async function runPrometheusTool(program: string, args: string[]): Promise<CommandResult> {
  let result: Deno.CommandOutput;
  try {
    result = await runToEnd(program, { args }, `${program} ${args.slice(0, 2).join(" ")}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw missing(program);
    throw error;
  }
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

function missing(program: string): Error {
  return new Error(
    `${program} is not installed: install Debian's "prometheus" package ` +
      "(apt-get install prometheus; bash .ci/run does it)",
  );
}

export interface PrometheusServer extends AsyncDisposable {
  readonly url: URL;
  /** GET on Prometheus's HTTP API; returns the `data` of a successful answer. */
  api<T>(path: string): Promise<T>;
  /** Kills the server, waits for it and removes its storage; `await using` calls it. */
  stop(): Promise<void>;
}

class ExitedAtStart extends Error {
  override name = "ExitedAtStart";
}

/** Starts `prometheus` with `configFile`, and resolves once its readiness endpoint says ready. */
export async function startPrometheus(
  configFile: string,
  readyWithinMs = WAIT_MS,
): Promise<PrometheusServer> {
  // A port found free may be taken again before prometheus binds it: try a few.
  for (let attempt = 1;; attempt++) {
    try {
      return await startPrometheusOn(freePort(), configFile, readyWithinMs);
    } catch (error) {
      if (!(error instanceof ExitedAtStart) || attempt === 3) throw error;
    }
  }
}

async function startPrometheusOn(
  port: number,
  configFile: string,
  readyWithinMs: number,
): Promise<PrometheusServer> {
  const storage = await Deno.makeTempDir({ prefix: "prometheus-tsdb-" });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("prometheus", {
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${storage}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(storage, { recursive: true });
    if (error instanceof Deno.errors.NotFound) throw missing("prometheus");
    throw error;
  }
  let stderr = "";
  const stderrDone = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  const url = new URL(`http://127.0.0.1:${port}/`);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await killAndWait(child, Promise.all([child.status, stderrDone]), "prometheus");
      await Deno.remove(storage, { recursive: true });
    })();

  const server: PrometheusServer = {
    url,
    async api<T>(path: string): Promise<T> {
      const response = await fetchWithin(new URL(path, url));
      const body = await response.json() as { status: string; data: T; error?: string };
      if (response.status !== 200 || body.status !== "success") {
        throw new Error(`Prometheus ${path}: ${response.status} ${body.error ?? ""}`);
      }
      return body.data;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };

  let exited = false;
  child.status.then(() => exited = true);
  try {
    await pollUntil(`prometheus on port ${port} to be ready`, async () => {
      if (exited) throw new ExitedAtStart(`prometheus exited at start:\n${stderr}`);
      const response = await fetchWithin(new URL("/-/ready", url), {}, 1_000);
      await response.body?.cancel();
      return response.status === 200 || undefined;
    }, { timeoutMs: readyWithinMs, intervalMs: 100, giveUpOn: (e) => e instanceof ExitedAtStart });
  } catch (error) {
    await stop();
    throw error;
  }
  return server;
}
