import assert from "node:assert/strict";
import {
  DeadlineReached,
  RequestDeadlines,
  SYSTEM_TIMERS,
  TimeoutError,
  withTimeout,
} from "../../src/process/timeout.ts";
import { TestClock } from "../support/clock.ts";

Deno.test("withTimeout() answers with the work's outcome and clears its timer", async () => {
  const clock = new TestClock();
  assert.equal(
    await withTimeout(() => Promise.resolve("done"), 100, { timers: clock.timers }),
    "done",
  );
  await assert.rejects(
    withTimeout(() => Promise.reject(new RangeError("failed")), 100, { timers: clock.timers }),
    RangeError,
  );
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("withTimeout() rejects with a TimeoutError once its time has passed", async () => {
  const clock = new TestClock();
  const late = Promise.withResolvers<string>();
  let signal: AbortSignal | undefined;
  const bounded = withTimeout((given) => (signal = given, late.promise), 100, {
    timers: clock.timers,
  });
  clock.advance(99);
  assert.equal(signal?.aborted, false, "not before its time");
  clock.advance(1);
  await assert.rejects(bounded, TimeoutError, "No answer within 100 ms");
  assert.ok(signal?.reason instanceof TimeoutError, "the work's signal aborts with the reason");
  // The work carries on; its late failure is dropped, not an unhandled rejection.
  late.reject(new Error("too late"));
  await new Promise((resolve) => setTimeout(resolve, 0));
});

Deno.test("withTimeout() names what timed out when asked to", async () => {
  const clock = new TestClock();
  const bounded = withTimeout(() => new Promise<never>(() => {}), 50, {
    message: "No answer within SHARED_STORE_TIMEOUT_MS (50 ms)",
    timers: clock.timers,
  });
  clock.advance(50);
  await assert.rejects(bounded, {
    name: "TimeoutError",
    message: "No answer within SHARED_STORE_TIMEOUT_MS (50 ms)",
  });
});

Deno.test("withTimeout() on the global timers leaves none behind", async () => {
  assert.equal(await withTimeout(() => Promise.resolve(1), 60_000, { timers: SYSTEM_TIMERS }), 1);
  await assert.rejects(withTimeout(() => new Promise<never>(() => {}), 1), TimeoutError);
});

Deno.test("RequestDeadlines ends each call at its own deadline, on one timer", async () => {
  const clock = new TestClock(0);
  const deadlines = new RequestDeadlines(1_000, { timers: clock.timers, now: clock.now });
  /** Each call's deadline, as it stands: "pending" until it rejects. */
  const reached: string[] = [];
  const calls = [0, 300, 600].map((startMs, index) => {
    clock.advance(startMs - clock.now());
    const never = Promise.withResolvers<void>();
    reached.push("pending");
    return {
      done: deadlines.run((deadline) => {
        deadline.catch((error) => reached[index] = error.name);
        return Promise.race([never.promise, deadline]);
      }),
      answer: never.resolve,
    };
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(deadlines.pending, 3);
  assert.equal(clock.pendingTimers, 1, "three calls, one timer");

  calls[1]!.answer(); // The middle call answers in time.
  await calls[1]!.done;
  assert.equal(deadlines.pending, 2);

  clock.advance(1_000 - clock.now()); // The first call's deadline.
  await assert.rejects(calls[0]!.done, DeadlineReached);
  assert.deepEqual(reached, ["DeadlineReached", "pending", "pending"]);
  assert.equal(clock.pendingTimers, 1, "the timer waits for the oldest still pending");

  clock.advance(1_599 - clock.now());
  await settle();
  assert.equal(reached[2], "pending", "not a millisecond early");
  clock.advance(1);
  await assert.rejects(calls[2]!.done, DeadlineReached);
  assert.equal(reached[1], "pending", "a call that answered is never ended");
  assert.equal(deadlines.pending, 0);
  assert.equal(clock.pendingTimers, 0, "nothing pending: no timer");
});

Deno.test("RequestDeadlines.close() stops the timer", () => {
  const clock = new TestClock(0);
  const deadlines = new RequestDeadlines(1_000, { timers: clock.timers, now: clock.now });
  void deadlines.run(() => new Promise(() => {}));
  assert.equal(clock.pendingTimers, 1);
  deadlines.close();
  assert.equal(clock.pendingTimers, 0);
  assert.equal(deadlines.pending, 0);
});
