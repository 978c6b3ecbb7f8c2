/**
 * Runs the service as its own process, with exactly the command line of its
 * `deno task` (or a compiled binary), so permission flags are tested too.
 */

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
  task: "start" | "serve" | "invoke",
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

export interface ServiceProcess {
  readonly child: Deno.ChildProcess;
  /** Log lines seen on stdout so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line (past or future) that matches. */
  waitForLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Resolves with the first match of `pattern` in stderr, as it arrives. */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when the process exits, with everything it wrote to stderr. */
  readonly exited: Promise<{ code: number; stderr: string }>;
  /** Kills the process if it still runs, and waits for it: for `finally` blocks. */
  stop(): Promise<void>;
}

/** Starts main.ts (or another command line) with only `env`, plus what Deno needs to find its cache. */
export function spawnService(
  env: Record<string, string>,
  cwd = Deno.cwd(),
  command: { program: string; args: string[] } = {
    program: Deno.execPath(),
    args: taskArguments("start"),
  },
): ServiceProcess {
  const inherited = Object.fromEntries(
    ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"].flatMap((name) => {
      const value = Deno.env.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
  const child = new Deno.Command(command.program, {
    args: command.args,
    cwd,
    env: { ...inherited, NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const lines: Record<string, unknown>[] = [];
  const waiters: {
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  const stdoutDone = (async () => {
    let buffered = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += text;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.match(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
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

  return {
    child,
    lines,
    waitForLine(match) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        // A process that exits without the line must fail the test, not hang it.
        child.status.then(() => stdoutDone).then(() =>
          reject(
            new Error(
              `Process exited without the expected log line; saw:\n${
                JSON.stringify(lines, null, 2)
              }`,
            ),
          )
        );
      });
    },
    waitForStderr(pattern) {
      return new Promise((resolve, reject) => {
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
            reject(new Error(`Process exited; stderr was:\n${stderrText}`));
          }
        });
      });
    },
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await exited;
    },
    exited,
  };
}

/** Rejects after `ms` instead of letting a broken test hang the suite. */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** POSTs `{ city_name }` to the weather action of a service running as a process. */
export function postWeather(url: URL, city: string): Promise<Response> {
  return fetch(new URL("/data-action/weather", url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ city_name: city }),
  });
}

export function listeningUrl(line: Record<string, unknown>): URL {
  return new URL(String(line.url).replace("0.0.0.0", "127.0.0.1"));
}
