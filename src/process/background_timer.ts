/** Timers for housekeeping that must never keep the process alive on its own. */

export type TimerId = ReturnType<typeof setTimeout>;

/**
 * `setTimeout`, unref'd: the process may end while it is pending. (Deno 2.5's
 * global timers are numbers, Deno 2.9's Node-style `Timeout` objects;
 * `Deno.unrefTimer` takes both, whatever its declared type says.)
 */
export function setBackgroundTimeout(callback: () => void, delayMs: number): TimerId {
  const timer = setTimeout(callback, delayMs);
  Deno.unrefTimer(timer as unknown as number);
  return timer;
}
