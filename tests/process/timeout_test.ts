import assert from "node:assert/strict";
import {
  RequestDeadlines,
  SYSTEM_TIMERS,
  TimeoutError,
  untilAborted,
  withDeadline,
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

Deno.test("withDeadline() gives every step one signal and clears its timer when done", async () => {
  const clock = new TestClock();
  const steps: string[] = [];
  const answer = withDeadline(
    async (deadline) => {
      steps.push(await untilAborted(Promise.resolve("first"), deadline));
      try {
        await untilAborted(new Promise<never>(() => {}), deadline);
      } catch (error) {
        steps.push(error === deadline.reason ? "second timed out" : "second failed");
      }
      return "answered anyway";
    },
    1_000,
    { timers: clock.timers },
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  clock.advance(1_000);
  assert.equal(await answer, "answered anyway");
  assert.deepEqual(steps, ["first", "second timed out"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("untilAborted() rejects at once when the signal has already aborted", async () => {
  const controller = new AbortController();
  controller.abort(new TimeoutError("over"));
  await assert.rejects(untilAborted(Promise.resolve(1), controller.signal), TimeoutError);
});

Deno.test("withTimeout() on the global timers leaves none behind", async () => {
  assert.equal(await withTimeout(() => Promise.resolve(1), 60_000, { timers: SYSTEM_TIMERS }), 1);
  await assert.rejects(withTimeout(() => new Promise<never>(() => {}), 1), TimeoutError);
});

Deno.test("RequestDeadlines ends each call at its own deadline, on one timer", async () => {
  const clock = new TestClock(0);
  const deadlines = new RequestDeadlines(1_000, { timers: clock.timers, now: clock.now });
  const signals: AbortSignal[] = [];
  const calls = [0, 300, 600].map((startMs) => {
    clock.advance(startMs - clock.now());
    const never = Promise.withResolvers<void>();
    return {
      done: deadlines.run((deadline) => (
        signals.push(deadline.signal), Promise.race([never.promise, deadline.expired])
      )),
      answer: never.resolve,
    };
  });
  assert.equal(deadlines.pending, 3);
  assert.equal(clock.pendingTimers, 1, "three calls, one timer");

  calls[1]!.answer(); // The middle call answers in time.
  await calls[1]!.done;
  assert.equal(deadlines.pending, 2);

  clock.advance(1_000 - clock.now()); // The first call's deadline.
  await assert.rejects(calls[0]!.done, TimeoutError);
  assert.deepEqual(signals.map((signal) => signal.aborted), [true, false, false]);
  assert.equal(clock.pendingTimers, 1, "the timer waits for the oldest still pending");

  clock.advance(1_599 - clock.now());
  assert.equal(signals[2]!.aborted, false, "not a millisecond early");
  clock.advance(1);
  await assert.rejects(calls[2]!.done, TimeoutError);
  assert.equal(signals[1]!.aborted, false, "a call that answered is never aborted");
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
