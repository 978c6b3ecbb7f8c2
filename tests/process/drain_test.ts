import assert from "node:assert/strict";
import { drainOnSignals } from "../../src/process/drain.ts";
import { createLogger } from "../../src/process/log.ts";

function setUp(graceMs: number) {
  const lines: Record<string, unknown>[] = [];
  const exits: number[] = [];
  let closed = false;
  const { promise: answer, resolve: release } = Promise.withResolvers<void>();
  const draining = drainOnSignals({
    handler: async () => {
      await answer;
      return new Response("ok");
    },
    graceMs,
    logger: createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) }),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
    exit: (code) => exits.push(code),
  });
  return { draining, lines, exits, release, isClosed: () => closed };
}

Deno.test("drainOnSignals() exits 0 once every answer in flight has been sent", async () => {
  const { draining, lines, exits, release, isClosed } = setUp(5_000);
  const { promise: sent, resolve: markSent } = Promise.withResolvers<void>();
  const inFlight = draining.handler(new Request("http://localhost/"), { completed: sent });
  const stopping = draining.shutDown("SIGINT");
  // A second signal (a task runner forwarding the same one) changes nothing.
  assert.equal(draining.shutDown("SIGINT"), stopping);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(exits, [], "nothing exits while an answer is in flight");
  release();
  await (await inFlight).text();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(exits, [], "an answer built but not yet sent still counts");
  markSent();
  assert.equal(await stopping, 0);
  assert.deepEqual(exits, [0]);
  assert.ok(isClosed());
  assert.deepEqual(lines.map((line) => line.msg), ["Shutting down", "Stopped"]);
  assert.equal(lines[0]!.in_flight, 1);
});

Deno.test("drainOnSignals() exits 1 when the grace period ends first", async () => {
  const { draining, lines, exits, release, isClosed } = setUp(30);
  const inFlight = draining.handler(new Request("http://localhost/"));
  assert.equal(await draining.shutDown("SIGINT"), 1);
  assert.deepEqual(exits, [1]);
  assert.ok(!isClosed());
  assert.equal(lines.at(-1)!.level, "warn");
  release();
  await (await inFlight).text();
});
