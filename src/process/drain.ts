/**
 * Graceful shutdown. `stopGracefully` is the one sequence every entry runs
 * after SIGINT/SIGTERM: wait for the requests in flight up to the grace
 * period, close the service, report the exit code. main.ts waits for its
 * Deno.serve server to finish; `drainOnSignals` serves the `deno serve` /
 * Deno Deploy entry, which has no server object: it only exports `{ fetch }`.
 *
 * Deno Deploy stops an instance with SIGINT and kills it 5 s later. What
 * `deno serve` itself does on SIGINT depends on the version: Deno 2.9 drains
 * its server, Deno 2.5 exits at once and cuts off every request in flight. So
 * the entry counts the requests in flight itself and, on SIGINT or SIGTERM,
 * waits until they are answered (or the grace period is over) before it closes
 * the service and exits: the same on every supported Deno.
 */

import { flushLogs, type Logger } from "./log.ts";
import { TimeoutError, withTimeout } from "./timeout.ts";

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

  const drain = (signal: string): Promise<number> =>
    stopGracefully({
      signal,
      graceMs: options.graceMs,
      logger: options.logger,
      drained: new Promise<void>((resolve) => {
        if (inFlight === 0) resolve();
        else idle = resolve;
      }),
      inFlight: () => inFlight,
      close: options.close,
      flushMs: FLUSH_MS,
    });

  const shutDown = (signal: string): Promise<number> => {
    // Once, however often it is asked (a second signal, a test).
    stopping ??= drain(signal).then((code) => {
      exit(code);
      return code;
    });
    return stopping;
  };

  onFirstSignal(options.signals ?? [], (signal) => void shutDown(signal));
  return { handler, shutDown };
}

export interface GracefulStop {
  /** The signal that started it, for the log. */
  signal: string;
  graceMs: number;
  logger: Logger;
  /** Settles once every request in flight has been answered. */
  drained: Promise<unknown>;
  /** Closes outbound pools once nothing is in flight. */
  close(): Promise<void>;
  /** How many requests are in flight, for the log, where the caller counts them. */
  inFlight?: () => number;
  /** How long to wait after closing, for answers still on their way to the socket. */
  flushMs?: number;
}

/**
 * Waits for the requests in flight, up to the grace period; resolves with the
 * exit code once every log line, the last ones included, has been written.
 */
export async function stopGracefully(stop: GracefulStop): Promise<number> {
  try {
    return await stopAfterDraining(stop);
  } finally {
    // Batched lines are written within milliseconds, but the caller exits next.
    flushLogs();
  }
}

async function stopAfterDraining(stop: GracefulStop): Promise<number> {
  const inFlight = () => stop.inFlight ? { in_flight: stop.inFlight() } : {};
  stop.logger.info("Shutting down", { signal: stop.signal, grace_ms: stop.graceMs, ...inFlight() });
  try {
    await withTimeout(() => stop.drained, stop.graceMs);
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    stop.logger.warn(
      "Shutdown grace period over; requests still in flight are cut off",
      inFlight(),
    );
    return 1;
  }
  await stop.close();
  if (stop.flushMs) await new Promise((resolve) => setTimeout(resolve, stop.flushMs));
  stop.logger.info("Stopped");
  return 0;
}

/** Calls `start` for the first of these signals only: a supervisor and a task runner may both forward one. */
export function onFirstSignal(
  signals: readonly Deno.Signal[],
  start: (signal: Deno.Signal) => void,
): void {
  let started = false;
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      if (started) return;
      started = true;
      start(signal);
    });
  }
}
