import assert from "node:assert/strict";
import { createDeadlineQueue, type DeadlineClock } from "../../src/http/deadlines.ts";

/** A clock whose time and one pending timer the test moves by hand. */
function manualClock() {
  let time = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const clock: DeadlineClock = {
    now: () => time,
    setTimer: (callback, delayMs) => {
      const id = nextId++;
      timers.set(id, { at: time + delayMs, callback });
      return id as unknown as ReturnType<typeof setTimeout>;
    },
    clearTimer: (id) => void timers.delete(id as unknown as number),
  };
  return {
    clock,
    timers,
    advance(ms: number) {
      time += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at <= time && timers.delete(id)) timer.callback();
      }
    },
  };
}

Deno.test("createDeadlineQueue() fires each deadline once, after its length, on one timer", () => {
  const { clock, timers, advance } = manualClock();
  const queue = createDeadlineQueue(100, clock);
  const fired: string[] = [];
  queue.arm({ expired: () => fired.push("a") });
  advance(30);
  const b = queue.arm({ expired: () => fired.push("b") });
  queue.arm({ expired: () => fired.push("c") });
  assert.equal(timers.size, 1, "one timer for any number of deadlines");
  assert.equal(queue.pending, 3);

  advance(69);
  assert.deepEqual(fired, [], "nothing before its length has passed");
  advance(1);
  assert.deepEqual(fired, ["a"]);
  b.cancel();
  advance(30);
  assert.deepEqual(fired, ["a", "c"], "a cancelled deadline never fires");
  assert.equal(queue.pending, 0);
  assert.equal(timers.size, 0, "an empty queue holds no timer once its timer has fired");
});

Deno.test("createDeadlineQueue() arms no timer per request while requests come and go", () => {
  const { clock, timers, advance } = manualClock();
  const queue = createDeadlineQueue(50, clock);
  let armed = 0;
  const setTimer = clock.setTimer;
  clock.setTimer = (callback, delayMs) => (armed++, setTimer(callback, delayMs));
  for (let request = 0; request < 100; request++) {
    // Each request is done before the next arrives: the queue empties every time.
    queue.arm({ expired: () => assert.fail("cancelled") }).cancel();
    advance(1);
  }
  assert.equal(queue.pending, 0);
  assert.equal(armed, 2, "one timer per deadline length, not one per request");
  advance(50);
  assert.equal(timers.size, 0, "nothing left queued: the timer is not re-armed");

  let fired = 0;
  queue.arm({ expired: () => fired++ });
  advance(50);
  assert.equal(fired, 1, "the queue arms a new timer after being idle");
});

Deno.test("createDeadlineQueue() close() stops the timer and drops what is queued", () => {
  const { clock, timers, advance } = manualClock();
  const queue = createDeadlineQueue(50, clock);
  queue.arm({ expired: () => assert.fail("closed") });
  queue.close();
  assert.equal(timers.size, 0);
  assert.equal(queue.pending, 0);
  advance(100);
});

Deno.test("createDeadlineQueue() re-arms for a deadline armed while one fires", () => {
  const { clock, advance } = manualClock();
  const queue = createDeadlineQueue(10, clock);
  const fired: number[] = [];
  queue.arm({
    expired: () => {
      fired.push(1);
      queue.arm({ expired: () => fired.push(2) });
    },
  });
  advance(10);
  assert.deepEqual(fired, [1]);
  advance(10);
  assert.deepEqual(fired, [1, 2]);
});

Deno.test("createDeadlineQueue() on the system clock fires, and close() leaves no timer", async () => {
  const queue = createDeadlineQueue(5);
  let fired = false;
  queue.arm({ expired: () => fired = true });
  // The queue's timer does not keep the process alive; this one does.
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fired, true);
  queue.arm({ expired: () => assert.fail("cancelled") }).cancel();
  assert.equal(queue.pending, 0);
  queue.close();
});
