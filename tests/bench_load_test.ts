import assert from "node:assert/strict";
import { parseWrkReport } from "../scripts/bench_load.ts";

/** A report as `wrk -t1 -c64 -d1s --latency` printed it against the bare floor. */
const CLEAN = `Running 1s test @ http://127.0.0.1:18431/data-action/weather
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.33ms    0.97ms   7.29ms   86.59%
    Req/Sec    44.47k     6.68k   53.54k    70.00%
  Latency Distribution
     50%    1.04ms
     75%    1.23ms
     90%    2.21ms
     99%    5.80ms
  44249 requests in 1.00s, 22.28MB read
Requests/sec:  44128.40
Transfer/sec:     22.22MB
`;

Deno.test("parseWrkReport() reads the figures of wrk --latency", async (t) => {
  await t.step("requests, rate and percentiles in milliseconds", () => {
    assert.deepEqual(parseWrkReport(CLEAN), {
      requests: 44249,
      requestsPerS: 44128.4,
      p50Ms: 1.04,
      p99Ms: 5.8,
      errorStatuses: 0,
      socketErrors: 0,
    });
  });

  await t.step("converts microseconds and seconds to milliseconds", () => {
    const result = parseWrkReport(
      CLEAN.replace("50%    1.04ms", "50%  850.00us").replace("99%    5.80ms", "99%    1.20s"),
    );
    assert.equal(result.p50Ms, 0.85);
    assert.equal(result.p99Ms, 1200);
  });

  await t.step("counts error answers and socket errors", () => {
    const result = parseWrkReport(CLEAN.replace(
      "22.28MB read\n",
      "22.28MB read\n  Socket errors: connect 1, read 3, write 0, timeout 2\n" +
        "  Non-2xx or 3xx responses: 1229\n",
    ));
    assert.equal(result.errorStatuses, 1229);
    assert.equal(result.socketErrors, 6);
  });

  await t.step("throws when the latency distribution is missing", () => {
    const withoutLatency = CLEAN.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}44249)/, "");
    assert.throws(() => parseWrkReport(withoutLatency), /no 50% latency/);
  });

  await t.step("throws when wrk printed no results", () => {
    assert.throws(
      () => parseWrkReport("unable to connect to 127.0.0.1:1 Connection refused\n"),
      /no request count or rate/,
    );
  });
});
