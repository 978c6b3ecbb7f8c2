/**
 * The load generators of `deno task bench`. wrk (Debian's package) is the
 * one that counts: a small C program whose cost per request is far below the
 * server's, so on two shared cores it leaves the servers most of the machine.
 * Where wrk is missing and cannot be installed, autocannon runs instead, in
 * the benchmark's own process on Node's layer; it saturates before a fast
 * server does and so understates the gap to the floors, which the report says.
 */

import type Autocannon from "autocannon";
import { CORRELATION_HEADER } from "../src/edge/handler.ts";

export interface LoadRequest {
  /** The Authorization header's value; none when absent. */
  authorization?: string;
  body: string;
}

export interface LoadSpec {
  /** The full URL, path included. */
  url: string;
  /** Sent in turn, one per request; a single entry is sent every time. */
  requests: readonly LoadRequest[];
  connections: number;
  durationS: number;
}

export interface LoadResult {
  /** Requests answered during the run. */
  requests: number;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers with an error status (wrk counts status 400 and above). */
  errorStatuses: number;
  /** Connect, read and write errors, and timeouts. */
  socketErrors: number;
}

export interface LoadGenerator {
  /** What ran, with its version, for the report. */
  readonly name: string;
  /** Why autocannon ran instead of wrk; absent when wrk ran. */
  readonly fallbackReason?: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Progress for whoever runs the benchmark: stderr, so stdout carries only the report. */
export function note(line: string): void {
  Deno.stderr.writeSync(encoder.encode(`${line}\n`));
}

/**
 * wrk, installed if missing; autocannon where that fails. `wanted`
 * ("wrk" or "autocannon", from BENCH_LOAD_GENERATOR) forces the choice.
 * `workDir` receives wrk's request files.
 */
export async function chooseLoadGenerator(
  workDir: string,
  wanted = Deno.env.get("BENCH_LOAD_GENERATOR") ?? "wrk",
): Promise<LoadGenerator> {
  if (wanted === "autocannon") return await autocannonGenerator("BENCH_LOAD_GENERATOR=autocannon");
  if (wanted !== "wrk") {
    throw new Error(`BENCH_LOAD_GENERATOR must be "wrk" or "autocannon", not "${wanted}"`);
  }
  let version = await wrkVersion();
  let installProblem: string | undefined;
  if (version === undefined) {
    installProblem = await installWrk();
    version = await wrkVersion();
  }
  if (version !== undefined) return wrkGenerator(version, workDir);
  return await autocannonGenerator(
    `wrk is not installed and could not be: ${
      installProblem ?? "apt-get reported success, yet there is no wrk on PATH"
    }`,
  );
}

/** "wrk debian/4.1.0-3+b2 [epoll]", or undefined when there is no wrk. */
async function wrkVersion(): Promise<string | undefined> {
  try {
    // `wrk -v` prints its version and usage, and exits with 1.
    const { stdout } = await new Deno.Command("wrk", {
      args: ["-v"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return decoder.decode(stdout).match(/^(wrk \S+(?: \[\w+\])?)/m)?.[1];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function succeeds(program: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Installs Debian's wrk as root or through a sudo that asks no password; says why not otherwise. */
async function installWrk(): Promise<string | undefined> {
  if (!(await succeeds("apt-get", ["--version"]))) return "no apt-get on this machine";
  const asRoot = Deno.uid() === 0
    ? []
    : (await succeeds("sudo", ["-n", "true"]))
    ? ["sudo", "-n"]
    : undefined;
  if (asRoot === undefined) return "not root, and no sudo that runs without a password";
  const aptGet = async (...args: string[]) => {
    const [program, ...rest] = [...asRoot, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
    return await succeeds(program!, [...rest, ...args]);
  };
  note("wrk is missing: apt-get install -y wrk");
  if (await aptGet("install", "-y", "wrk")) return undefined;
  // A fresh machine may have no package lists yet.
  if (await aptGet("update") && await aptGet("install", "-y", "wrk")) return undefined;
  return "apt-get install -y wrk failed";
}

function wrkGenerator(version: string, workDir: string): LoadGenerator {
  const script = new URL("bench_wrk.lua", import.meta.url).pathname;
  let runs = 0;
  return {
    name: version,
    async run(spec) {
      // bench_wrk.lua reads one request per line: "<authorization>\t<body>".
      const lines = spec.requests.map(({ authorization = "", body }) => {
        if (/[\t\r\n]/.test(authorization + body)) {
          throw new Error("A request for wrk holds a tab or a line break");
        }
        return `${authorization}\t${body}\n`;
      });
      const requestsFile = `${workDir}/wrk-requests-${++runs}.txt`;
      await Deno.writeTextFile(requestsFile, lines.join(""));
      try {
        const output = await new Deno.Command("wrk", {
          args: [
            "-t1",
            `-c${spec.connections}`,
            `-d${spec.durationS}s`,
            "--latency",
            "-s",
            script,
            spec.url,
          ],
          env: {
            BENCH_WRK_REQUESTS: requestsFile,
            // One id per run, as Genesys sends one per call: the service reads and echoes it.
            BENCH_WRK_CORRELATION_ID: crypto.randomUUID(),
          },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const report = decoder.decode(output.stdout);
        if (!output.success) {
          throw new Error(
            `wrk exited with ${output.code}: ${decoder.decode(output.stderr)}${report}`,
          );
        }
        return parseWrkReport(report);
      } finally {
        await Deno.remove(requestsFile);
      }
    },
  };
}

/** Milliseconds per unit of wrk's latency figures (its format_time: us, ms, s, then m and h). */
const MS_PER_UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The figures of `wrk --latency`'s report; throws when one is missing. */
export function parseWrkReport(report: string): LoadResult {
  const latencyMs = (percentile: number): number => {
    const match = report.match(
      new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m"),
    );
    if (match === null) {
      throw new Error(`wrk's report has no ${percentile}% latency (is --latency set?):\n${report}`);
    }
    return Number(match[1]) * MS_PER_UNIT[match[2]!]!;
  };
  const requests = report.match(/^\s*(\d+) requests in /m);
  const rate = report.match(/^Requests\/sec:\s+([\d.]+)\s*$/m);
  if (requests === null || rate === null) {
    throw new Error(`wrk's report has no request count or rate:\n${report}`);
  }
  // Both lines appear only when their counts are not zero.
  const socket = report.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  const errorStatuses = report.match(/Non-2xx or 3xx responses: (\d+)/);
  return {
    requests: Number(requests[1]),
    requestsPerS: Number(rate[1]),
    p50Ms: latencyMs(50),
    p99Ms: latencyMs(99),
    errorStatuses: Number(errorStatuses?.[1] ?? 0),
    socketErrors: socket === null
      ? 0
      : socket.slice(1).reduce((sum, count) => sum + Number(count), 0),
  };
}

async function autocannonGenerator(reason: string): Promise<LoadGenerator> {
  // Loaded only here: a wrk run has no use for it.
  const { default: autocannon } = await import("autocannon");
  note(`load generator: autocannon, NOT wrk (${reason})`);
  return {
    name: "autocannon 8, in the benchmark's own process",
    fallbackReason: reason,
    async run(spec) {
      const correlationId = crypto.randomUUID();
      const headers = ({ authorization }: LoadRequest) => ({
        "content-type": "application/json",
        [CORRELATION_HEADER]: correlationId,
        ...(authorization === undefined ? {} : { authorization }),
      });
      const first = spec.requests[0]!;
      let next = 0;
      const cycle = spec.requests.length > 1
        ? {
          requests: [{
            setupRequest: (request: Autocannon.Request) => {
              const chosen = spec.requests[next++ % spec.requests.length]!;
              return { ...request, headers: headers(chosen), body: chosen.body };
            },
          }],
        }
        : {};
      const result = await autocannon({
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationS,
        method: "POST",
        headers: headers(first),
        body: first.body,
        ...cycle,
      });
      return {
        requests: result.requests.total,
        requestsPerS: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errorStatuses: result.non2xx,
        socketErrors: result.errors + result.timeouts,
      };
    },
  };
}
