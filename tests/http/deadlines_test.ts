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
  queue.arm(() => fired.push("a"));
  advance(30);
  const b = queue.arm(() => fired.push("b"));
  queue.arm(() => fired.push("c"));
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
  assert.equal(timers.size, 0, "an empty queue holds no timer");
});

Deno.test("createDeadlineQueue() clears its timer once every deadline is cancelled", () => {
  const { clock, timers, advance } = manualClock();
  const queue = createDeadlineQueue(50, clock);
  const first = queue.arm(() => assert.fail("cancelled"));
  const second = queue.arm(() => assert.fail("cancelled"));
  second.cancel();
  assert.equal(timers.size, 1);
  first.cancel();
  first.cancel();
  assert.equal(timers.size, 0);
  assert.equal(queue.pending, 0);
  advance(100);

  let fired = 0;
  queue.arm(() => fired++);
  advance(50);
  assert.equal(fired, 1, "the queue arms a new timer after being empty");
});

Deno.test("createDeadlineQueue() re-arms for a deadline armed while one fires", () => {
  const { clock, advance } = manualClock();
  const queue = createDeadlineQueue(10, clock);
  const fired: number[] = [];
  queue.arm(() => {
    fired.push(1);
    queue.arm(() => fired.push(2));
  });
  advance(10);
  assert.deepEqual(fired, [1]);
  advance(10);
  assert.deepEqual(fired, [1, 2]);
});

Deno.test("createDeadlineQueue() on the system clock fires and leaves no timer behind", async () => {
  const queue = createDeadlineQueue(5);
  const fired = Promise.withResolvers<void>();
  queue.arm(() => fired.resolve());
  queue.arm(() => {}).cancel();
  await fired.promise;
  assert.equal(queue.pending, 0);
});
