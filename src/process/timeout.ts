/**
 * Deadlines, one way: a signal that aborts when time is up, and work raced
 * against it. Work that loses the race carries on in the background; its
 * late outcome is dropped (a late rejection counts as handled).
 */

/** `work`'s outcome, or a rejection with `signal.reason` as soon as `signal` aborts. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const onAbort = () => reject(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  return promise;
}
