/**
 * The real Prometheus tools for the monitoring tests: `promtool` runs as a
 * command, and a `prometheus` server runs on a free loopback port with a
 * throw-away TSDB. Both come from Debian's `prometheus` package, which
 * `.ci/run` installs; a missing binary fails the test, it never skips it.
 */

import { freePort } from "./free_port.ts";

export interface CommandResult {
  code: number;
  output: string;
}

/** Runs a Prometheus binary and returns its exit code with stdout and stderr together. */
export async function runPrometheusTool(program: string, args: string[]): Promise<CommandResult> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).output();
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

export interface PrometheusServer {
  readonly url: URL;
  /** GET on Prometheus's HTTP API; returns the `data` of a successful answer. */
  api<T>(path: string): Promise<T>;
  /** Kills the server, waits for it and removes its storage. */
  stop(): Promise<void>;
}

/** Starts `prometheus` with `configFile`, and resolves once its readiness endpoint says ready. */
export async function startPrometheus(
  configFile: string,
  readyWithinMs: number,
): Promise<PrometheusServer> {
  const storage = await Deno.makeTempDir({ prefix: "prometheus-tsdb-" });
  const port = freePort();
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
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await stderrDone;
    await Deno.remove(storage, { recursive: true });
  };

  const server: PrometheusServer = {
    url,
    async api<T>(path: string): Promise<T> {
      const response = await fetch(new URL(path, url));
      const body = await response.json() as { status: string; data: T; error?: string };
      if (response.status !== 200 || body.status !== "success") {
        throw new Error(`Prometheus ${path}: ${response.status} ${body.error ?? ""}`);
      }
      return body.data;
    },
    stop,
  };

  const deadline = Date.now() + readyWithinMs;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(new URL("/-/ready", url));
      await response.body?.cancel();
      if (response.status === 200) return server;
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`prometheus did not become ready within ${readyWithinMs} ms:\n${stderr}`);
}
