import assert from "node:assert/strict";
import { createLineBatch } from "../../src/process/line_batch.ts";
import { within } from "../support/wait.ts";

const decoder = new TextDecoder();

/** A batch whose writes are recorded (copied: the batch reuses its buffer). */
function recorded(batchBytes: number, flushAfterMs = 5) {
  const writes: string[] = [];
  let written = () => {};
  const batch = createLineBatch({
    batchBytes,
    flushAfterMs,
    writeAll: (bytes) => {
      writes.push(decoder.decode(bytes.slice()));
      written();
    },
  });
  const nextWrite = () => new Promise<void>((resolve) => written = resolve);
  return { batch, writes, nextWrite };
}

Deno.test("createLineBatch() writes a burst larger than its buffer whole, in order, in batches", () => {
  const { batch, writes } = recorded(256);
  const lines = Array.from(
    { length: 200 },
    (_, i) => `{"seq":${i},"text":"${"é€".repeat(i % 40)}"}`,
  );
  lines.splice(100, 0, `{"seq":"long","text":"${"x".repeat(600)}"}`);
  for (const line of lines) batch.add(line);
  batch.flush();
  assert.equal(writes.join(""), lines.map((line) => line + "\n").join(""));
  assert.ok(writes.length > 10 && writes.length < lines.length, `${writes.length} writes`);
  for (const write of writes) {
    assert.ok(write.endsWith("\n"), "every write ends a line");
    const bytes = new TextEncoder().encode(write).length;
    assert.ok(bytes <= 256 || write.includes('"seq":"long"'), `a write of ${bytes} bytes`);
  }
});

Deno.test("createLineBatch() writes a batch once, flushAfterMs after its first line", async () => {
  const { batch, writes, nextWrite } = recorded(64 * 1024, 5);
  const written = nextWrite();
  batch.add("a");
  batch.add("b");
  batch.add("c");
  assert.deepEqual(writes, [], "nothing is written as it is added");
  await within(2_000, written, "the batch timer");
  assert.deepEqual(writes, ["a\nb\nc\n"]);
  batch.flush();
  assert.deepEqual(writes, ["a\nb\nc\n"], "an empty batch writes nothing");
});

Deno.test("createLineBatch() writes each line at once while writeThrough is set", () => {
  const { batch, writes } = recorded(1024);
  batch.add("held");
  batch.writeThrough = true;
  batch.add("now");
  assert.deepEqual(writes, ["held\nnow\n"]);
  batch.add("next");
  assert.deepEqual(writes, ["held\nnow\n", "next\n"]);
});
