/**
 * Graceful shutdown for the `deno serve` / Deno Deploy entry, where the
 * service has no server object to shut down: it only exports `{ fetch }`.
 *
 * Deno Deploy stops an instance with SIGINT and kills it 5 s later. What
 * `deno serve` itself does on SIGINT depends on the version: Deno 2.9 drains
 * its server, Deno 2.5 exits at once and cuts off every request in flight. So
 * the entry counts the requests in flight itself and, on SIGINT or SIGTERM,
 * waits until they are answered (or the grace period is over) before it closes
 * the service and exits: the same on every supported Deno.
 */

import type { Logger } from "./log.ts";

/**
 * `completed` settles when an answer is handed to the HTTP stack, a moment
 * before its bytes reach the socket: exiting at once cuts the last answers
 * off (seen on Deno 2.5 and 2.9), so the exit waits this long more.
 */
const FLUSH_MS = 50;

type Handler = (request: Request) => Promise<Response>;
/** `deno serve` passes the connection's info: `completed` settles once the answer is sent. */
type ServeHandler = (request: Request, info?: { completed: Promise<void> }) => Promise<Response>;

export interface DrainOptions {
  handler: Handler;
  /** How long requests in flight may take after the signal. */
  graceMs: number;
  logger: Logger;
  /** Closes outbound pools once nothing is in flight. */
  close(): Promise<void>;
  /** Deno.exit in production; tests observe the code instead. */
  exit?: (code: number) => void;
  signals?: readonly Deno.Signal[];
}

export interface Draining {
  /** The handler, counting what is in flight until its answer is sent. */
  handler: ServeHandler;
  /** Starts the shutdown as a signal would; resolves with the exit code. */
  shutDown(signal: string): Promise<number>;
}

export function drainOnSignals(options: DrainOptions): Draining {
  const exit = options.exit ?? Deno.exit;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let stopping: Promise<number> | undefined;

  const settled = () => {
    if (--inFlight === 0) idle?.();
  };
  const handler: ServeHandler = async (request, info) => {
    inFlight++;
    if (info === undefined) {
      try {
        return await options.handler(request);
      } finally {
        settled();
      }
    }
    // Counted until the answer has been written, not only built: exiting as
    // soon as the handler returns would cut off the answer it returned.
    info.completed.then(settled, settled);
    return await options.handler(request);
  };

  const drain = async (signal: string): Promise<number> => {
    options.logger.info("Shutting down", {
      signal,
      grace_ms: options.graceMs,
      in_flight: inFlight,
    });
    const drained = new Promise<"drained">((resolve) => {
      if (inFlight === 0) resolve("drained");
      else idle = () => resolve("drained");
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cutOff = new Promise<"cut off">((resolve) => {
      timer = setTimeout(() => resolve("cut off"), options.graceMs);
    });
    const outcome = await Promise.race([drained, cutOff]);
    clearTimeout(timer);
    if (outcome === "cut off") {
      options.logger.warn("Shutdown grace period over; requests still in flight are cut off", {
        in_flight: inFlight,
      });
      return 1;
    }
    await options.close();
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
    options.logger.info("Stopped");
    return 0;
  };

  const shutDown = (signal: string): Promise<number> => {
    // A supervisor and a task runner may both forward the same signal.
    stopping ??= drain(signal).then((code) => {
      exit(code);
      return code;
    });
    return stopping;
  };

  for (const signal of options.signals ?? []) {
    Deno.addSignalListener(signal, () => void shutDown(signal));
  }
  return { handler, shutDown };
}
