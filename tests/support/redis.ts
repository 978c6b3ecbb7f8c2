/**
 * A real Redis for the tests: `redis-server` (Debian's package; `.ci/run`
 * installs it) on a free loopback port, in a temp directory, with nothing
 * saved to disk. A test that cannot start it fails: it never passes by
 * skipping.
 */

import { freePort } from "./free_port.ts";
import { killAndWait } from "./process.ts";
import { pollUntil, WAIT_MS, within } from "./wait.ts";

export interface RedisServer extends AsyncDisposable {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for SHARED_STORE_URL. */
  readonly url: string;
  /** Runs one command over a raw connection and returns Redis's raw reply. */
  command(...args: string[]): Promise<string>;
  /**
   * Runs one command as an ACL user (`AUTH user password` first, on the same
   * connection) and returns Redis's raw reply to it: for replies of one line
   * (`+OK`, `-NOPERM ...`, `:1`).
   */
  commandAs(user: string, password: string, ...args: string[]): Promise<string>;
  /** Kills the server at once, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** One command in RESP, one read of the reply: enough for PING, SET and GET in tests. */
async function rawCommand(port: number, args: string[]): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const encoder = new TextEncoder();
    const body = args.map((arg) => `$${encoder.encode(arg).length}\r\n${arg}\r\n`).join("");
    await connection.write(encoder.encode(`*${args.length}\r\n${body}`));
    const buffer = new Uint8Array(64 * 1024);
    const read = await within(WAIT_MS, connection.read(buffer), `Redis's reply to ${args[0]}`);
    return new TextDecoder().decode(buffer.subarray(0, read ?? 0));
  } finally {
    connection.close();
  }
}

/** AUTH, then one command, pipelined; the reply to AUTH is one line, then the command's. */
async function rawCommandAs(
  port: number,
  [user, password]: [string, string],
  args: string[],
): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const encoder = new TextEncoder();
    const encode = (words: string[]) =>
      `*${words.length}\r\n` +
      words.map((word) => `$${encoder.encode(word).length}\r\n${word}\r\n`).join("");
    await connection.write(encoder.encode(encode(["AUTH", user, password]) + encode(args)));
    let received = "";
    const buffer = new Uint8Array(64 * 1024);
    const decoder = new TextDecoder();
    // Until AUTH's line and the command's line are both in.
    while (received.split("\r\n").length < 3) {
      const read = await within(WAIT_MS, connection.read(buffer), `Redis's reply to ${args[0]}`);
      if (read === null) break;
      received += decoder.decode(buffer.subarray(0, read), { stream: true });
    }
    const [auth, ...reply] = received.split("\r\n");
    if (auth !== "+OK") throw new Error(`AUTH as ${user} refused: ${auth}`);
    return reply.join("\r\n");
  } finally {
    connection.close();
  }
}

class ExitedAtStart extends Error {
  override name = "ExitedAtStart";
}

export async function startRedis(
  options: { dir?: string; args?: string[] } = {},
): Promise<RedisServer> {
  // A port found free may be taken again before redis-server binds it: try a few.
  for (let attempt = 1;; attempt++) {
    try {
      return await startRedisOn(freePort(), options.dir, options.args);
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** `dir`: where Redis may write (it writes nothing here); a temp dir, removed at stop, by default. */
async function startRedisOn(
  port: number,
  givenDir?: string,
  extraArgs: string[] = [],
): Promise<RedisServer> {
  const dir = givenDir ?? Deno.makeTempDirSync({ prefix: "redis-test-" });
  const removeDir = () => {
    if (givenDir === undefined) Deno.removeSync(dir, { recursive: true });
  };
  let child: Deno.ChildProcess | undefined;

  const launch = async () => {
    try {
      child = new Deno.Command("redis-server", {
        args: [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
          "--daemonize",
          "no",
          ...extraArgs,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      throw new Error(
        "redis-server could not be started: install it (apt-get install -y redis-server; .ci/run does)",
        { cause: error },
      );
    }
    let exited = false;
    child.status.then(() => exited = true);
    await pollUntil(`redis-server to answer PING on port ${port}`, async () => {
      if (exited) throw new ExitedAtStart(`redis-server exited at start (port ${port} taken?)`);
      // With --requirepass, PING answers -NOAUTH: listening all the same.
      return /^(\+PONG|-NOAUTH)/.test(await rawCommand(port, ["PING"])) || undefined;
    }, { intervalMs: 20, giveUpOn: (error) => error instanceof ExitedAtStart });
  };
  const kill = async () => {
    if (child === undefined) return;
    await killAndWait(child, child.status, "redis-server");
    child = undefined;
  };

  try {
    await launch();
  } catch (error) {
    await kill();
    removeDir();
    throw error;
  }
  const stop = async () => {
    await kill();
    removeDir();
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...args) => rawCommand(port, args),
    commandAs: (user, password, ...args) => rawCommandAs(port, [user, password], args),
    kill,
    async restart() {
      await kill();
      await launch();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
