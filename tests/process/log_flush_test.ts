/**
 * Batched log lines reach stdout however the process ends, through real
 * processes (tests/process/fixtures/log_then_end.ts) on the Deno named by
 * DENO_BIN (default: the Deno running the tests).
 */

import assert from "node:assert/strict";
import { spawnService } from "../support/process.ts";
import { BATCH_BYTES } from "../../src/process/line_batch.ts";

const DENO = Deno.env.get("DENO_BIN") ?? Deno.execPath();
const PROGRAM = new URL("./fixtures/log_then_end.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
/** Lines per phase: enough that one phase alone fills several batches when padded. */
const COUNT = 300;

function start(ending: string, count = COUNT) {
  return spawnService({}, {
    command: { program: DENO, args: ["run", "--config", CONFIG, PROGRAM, ending, String(count)] },
  });
}

/** Every line numbered 0..n-1, in order, none missing. */
function assertWholeAndInOrder(lines: Record<string, unknown>[], expected: number): void {
  assert.deepEqual(
    lines.map((line) => line.seq),
    Array.from({ length: expected }, (_, seq) => seq),
  );
}

Deno.test("createLogger() loses no stdout line however the process ends", async (t) => {
  await t.step("SIGTERM, then stopGracefully and Deno.exit", async () => {
    await using program = start("sigterm");
    await program.waitForLine((line) => line.msg === "ready", "the ready line");
    program.child.kill("SIGTERM");
    const { code } = await program.waitForExit();
    assert.equal(code, 0);
    assert.deepEqual(program.lines.slice(-2).map((line) => line.msg), [
      "Shutting down",
      "Stopped",
    ]);
    assertWholeAndInOrder(program.lines.slice(0, -2), 2 * COUNT + 1);
  });

  await t.step("an uncaught exception, with the line a crash handler logs", async () => {
    await using program = start("throw");
    const { code, stderr } = await program.waitForExit();
    assert.equal(code, 1);
    assert.match(stderr, /Fixture crash/);
    assert.equal(program.lines.at(-1)!.msg, "Crashing");
    assertWholeAndInOrder(program.lines, 2 * COUNT + 1);
  });

  await t.step("an unhandled rejection, with the line a crash handler logs", async () => {
    await using program = start("reject");
    const { code, stderr } = await program.waitForExit();
    assert.equal(code, 1);
    assert.match(stderr, /Fixture rejection/);
    assert.equal(program.lines.at(-1)!.msg, "Crashing");
    assertWholeAndInOrder(program.lines, 2 * COUNT + 1);
  });

  await t.step("Deno.exit", async () => {
    await using program = start("exit");
    const { code } = await program.waitForExit();
    assert.equal(code, 3);
    assertWholeAndInOrder(program.lines, 2 * COUNT);
  });

  await t.step("the event loop running out of work", async () => {
    await using program = start("end");
    const { code } = await program.waitForExit();
    assert.equal(code, 0);
    assertWholeAndInOrder(program.lines, 2 * COUNT);
  });
});

Deno.test("createLogger() writes a burst many times its batch buffer whole and in order", async () => {
  // Each line carries 300 bytes of padding: the burst is over 10 batch buffers.
  const count = Math.ceil((10 * BATCH_BYTES) / 300);
  await using program = start("burst", count);
  const { code } = await program.waitForExit();
  assert.equal(code, 0);
  // Each line was parsed as JSON on arrival: a line cut or interleaved would have failed.
  assertWholeAndInOrder(program.lines, 2 * count);
  assert.ok(
    program.lines.every((line) => line.padding === (line.phase === "burst" ? "x".repeat(300) : "")),
  );
});
