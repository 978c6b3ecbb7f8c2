/**
 * Runs the service as its own process, with exactly the command line of its
 * `deno task` (or a compiled binary), so permission flags are tested too.
 */

import { fetchWithin, WAIT_MS, within } from "./wait.ts";

const ROOT = new URL("../../", import.meta.url);

/**
 * The arguments of a `deno task` after `deno`, runnable from any directory:
 * the entry file made absolute, this project's config (import map, lock
 * file) named, and `extra` flags placed before the entry file. The serve
 * task names no entry (so that `deno task serve --port 8080 serve.ts` reaches
 * `deno serve`): serve.ts is added, as its documentation says. `root` is the
 * checkout whose task, config and entry are used (the benchmark starts other
 * revisions from their own worktrees).
 */
export function taskArguments(
  task: "start" | "serve" | "invoke" | "demo",
  extra: string[] = [],
  root: URL = ROOT,
): string[] {
  const configPath = new URL("deno.json", root).pathname;
  const { tasks } = JSON.parse(Deno.readTextFileSync(configPath)) as {
    tasks: Record<string, string>;
  };
  const command = task === "serve" ? `${tasks[task]} serve.ts` : tasks[task]!;
  const [program, ...args] = command.split(/\s+/);
  if (program !== "deno") throw new Error(`Unexpected ${task} task: ${tasks[task]}`);
  const entry = args.findIndex((arg) => arg.endsWith(".ts"));
  return [
    ...args.slice(0, entry),
    ...extra,
    "--config",
    configPath,
    new URL(args[entry]!, root).pathname,
    ...args.slice(entry + 1),
  ];
}

export interface ServiceProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** The directory it runs in: the one given, else an empty temp dir that stop() removes. */
  readonly cwd: string;
  /** Log lines seen on stdout so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /**
   * Resolves with the first line (past or future) that matches; fails when the
   * process exits first or `timeoutMs` passes, naming `what` was awaited.
   */
  waitForLine(
    match: (line: Record<string, unknown>) => boolean,
    what?: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** The URL of the `Listening` line, once it comes (0.0.0.0 made 127.0.0.1). */
  listening(timeoutMs?: number): Promise<URL>;
  /** Resolves with the first match of `pattern` in stderr, as it arrives. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process exits, with everything it wrote to stderr. */
  waitForExit(timeoutMs?: number): Promise<{ code: number; stderr: string }>;
  /** Kills the process if it still runs, and waits for it; `await using` calls it. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** The working directory; an empty temp dir when not given (no stray .env or secrets/). */
  cwd?: string;
  /** Another command line than main.ts under the start task's flags. */
  command?: { program: string; args: string[] };
}

/** Starts main.ts (or another command line) with only `env`, plus what Deno needs to find its cache. */
export function spawnService(
  env: Record<string, string>,
  {
    cwd,
    command = { program: Deno.execPath(), args: taskArguments("start") },
  }: SpawnOptions = {},
): ServiceProcess {
  const ownDir = cwd === undefined ? Deno.makeTempDirSync({ prefix: "service-cwd-" }) : undefined;
  const dir = cwd ?? ownDir!;
  const inherited = Object.fromEntries(
    ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"].flatMap((name) => {
      const value = Deno.env.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
  const child = new Deno.Command(command.program, {
    args: command.args,
    cwd: dir,
    env: { ...inherited, NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<{
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }>();
  const stdoutDone = (async () => {
    let buffered = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += text;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        for (const waiter of waiters) {
          if (waiter.match(line)) {
            waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
      }
    }
  })();

  let stderrText = "";
  const stderrWaiters = new Set<() => void>();
  const stderr = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderrText += text;
      for (const check of [...stderrWaiters]) check();
    }
    return stderrText;
  })();

  const exited = Promise.all([child.status, stderr, stdoutDone]).then(([status, stderr]) => ({
    code: status.code,
    stderr,
  }));
  /** What the process wrote so far, for the message of a wait that failed. */
  const written = () => `; stdout:\n${JSON.stringify(lines, null, 2)}\nstderr:\n${stderrText}`;

  const waitForLine: ServiceProcess["waitForLine"] = (
    match,
    what = "a matching log line",
    timeoutMs = WAIT_MS,
  ) => {
    const already = lines.find(match);
    if (already) return Promise.resolve(already);
    const { promise, resolve, reject } = Promise.withResolvers<Record<string, unknown>>();
    const waiter = { match, resolve };
    waiters.add(waiter);
    // A process that exits without the line must fail the test at once.
    exited.then(() => reject(new Error(`Process exited without ${what}${written()}`)));
    return within(timeoutMs, promise, () => `${what}${written()}`).finally(() =>
      waiters.delete(waiter)
    );
  };

  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await killAndWait(child, exited, "the process");
      if (ownDir !== undefined) Deno.removeSync(ownDir, { recursive: true });
    })();

  return {
    child,
    cwd: dir,
    lines,
    waitForLine,
    async listening(timeoutMs) {
      return listeningUrl(
        await waitForLine((line) => line.msg === "Listening", "the Listening line", timeoutMs),
      );
    },
    waitForStderr(pattern, timeoutMs = WAIT_MS) {
      const { promise, resolve, reject } = Promise.withResolvers<RegExpMatchArray>();
      const check = () => {
        const match = stderrText.match(pattern);
        if (match) {
          stderrWaiters.delete(check);
          resolve(match);
        }
      };
      stderrWaiters.add(check);
      check();
      stderr.then(() => {
        if (stderrWaiters.delete(check)) {
          reject(new Error(`Process exited without writing ${pattern} to stderr${written()}`));
        }
      });
      return within(timeoutMs, promise, () => `${pattern} in stderr${written()}`).finally(() =>
        stderrWaiters.delete(check)
      );
    },
    waitForExit(timeoutMs = WAIT_MS) {
      return within(timeoutMs, exited, () => `the process to exit${written()}`);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Runs a command to its end, as `new Deno.Command(program, options).output()`
 * does (stdout and stderr piped unless told), but kills it and fails when
 * `timeoutMs` passes, naming `what` was run.
 */
export async function runToEnd(
  program: string,
  options: Deno.CommandOptions = {},
  what = program,
  timeoutMs = WAIT_MS,
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(program, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...options,
  }).spawn();
  const output = child.output();
  try {
    return await within(timeoutMs, output, `${what} to finish`);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
    await output.catch(() => {});
    throw error;
  }
}

/** Sends SIGKILL (to a child that may have exited already) and waits for `exited`, within WAIT_MS. */
export async function killAndWait(
  child: Deno.ChildProcess,
  exited: Promise<unknown>,
  what: string,
): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* already exited */ }
  await within(WAIT_MS, exited, `${what} to exit after SIGKILL`);
}

/** POSTs `{ city_name }` to the weather action of a service running as a process. */
export function postWeather(url: URL, city: string): Promise<Response> {
  return fetchWithin(new URL("/data-action/weather", url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ city_name: city }),
  });
}

export function listeningUrl(line: Record<string, unknown>): URL {
  return new URL(String(line.url).replace("0.0.0.0", "127.0.0.1"));
}
