import assert from "node:assert/strict";
import {
  metricSeries,
  metricSum,
  percentile,
  StaleWitness,
  Tally,
  zipfSampler,
} from "../scripts/bench_day.ts";
import { CallCounter, logNormalMs, peakInWindow, seededRandom } from "../scripts/day_upstream.ts";

Deno.test("seededRandom() gives the same sequence for a seed, in [0, 1)", () => {
  const [a, b, c] = [seededRandom(7), seededRandom(7), seededRandom(8)];
  const first = Array.from({ length: 1_000 }, a);
  assert.deepEqual(Array.from({ length: 1_000 }, b), first);
  assert.notDeepEqual(Array.from({ length: 1_000 }, c), first);
  assert.ok(first.every((value) => value >= 0 && value < 1));
});

Deno.test("zipfSampler() draws ranks 1 … n with Zipf frequencies", () => {
  const [n, s, draws] = [500, 1.1, 200_000];
  const draw = zipfSampler(n, s, seededRandom(1));
  const counts = new Array<number>(n + 1).fill(0);
  for (let i = 0; i < draws; i++) counts[draw()]! += 1;
  assert.equal(counts[0], 0);
  assert.equal(counts.reduce((sum, count) => sum + count, 0), draws);
  let harmonic = 0;
  for (let k = 1; k <= n; k++) harmonic += 1 / k ** s;
  for (const rank of [1, 2, 10]) {
    const expected = draws / rank ** s / harmonic;
    assert.ok(Math.abs(counts[rank]! - expected) < expected * 0.05, `rank ${rank}`);
  }
  // The same seed, the same sequence: every variant is asked the same day.
  const again = zipfSampler(n, s, seededRandom(1));
  const other = zipfSampler(n, s, seededRandom(1));
  assert.deepEqual(Array.from({ length: 100 }, again), Array.from({ length: 100 }, other));
});

Deno.test("logNormalMs() has the median asked, and stays within its bounds", () => {
  const latency = { medianMs: 150, sigma: Math.log(4) / 2.326, minMs: 50, maxMs: 3_000 };
  const random = seededRandom(3);
  const draws = Float64Array.from({ length: 50_000 }, () => logNormalMs(random, latency)).sort();
  assert.ok(Math.abs(percentile(draws, 50) - 150) < 5);
  assert.ok(Math.abs(percentile(draws, 99) - 600) < 60);
  assert.ok(draws[0]! >= 50 && draws[draws.length - 1]! <= 3_000);
});

Deno.test("percentile() is the nearest rank", () => {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(values, 50), 5);
  assert.equal(percentile(values, 95), 10);
  assert.equal(percentile(values, 10), 1);
  assert.equal(percentile(values, 100), 10);
  assert.equal(percentile([42], 99), 42);
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("peakInWindow() and CallCounter count the most calls in any window", async (t) => {
  await t.step("consecutive counts", () => {
    assert.equal(peakInWindow([1, 0, 3, 1, 0, 2], 2), 4);
    assert.equal(peakInWindow([1, 0, 3, 1, 0, 2], 3), 4);
    assert.equal(peakInWindow([1, 0, 3, 1, 0, 2], 10), 7);
    assert.equal(peakInWindow([], 3), 0);
  });
  await t.step("a window that does not start on the first call", () => {
    const calls = new CallCounter(200_000);
    // 10 calls in the first second, 50 from 30 s, 40 from 89.5 s: 90 within 60 s, not 100.
    for (let i = 0; i < 10; i++) calls.record(i * 100);
    for (let i = 0; i < 50; i++) calls.record(30_000 + i * 10);
    for (let i = 0; i < 40; i++) calls.record(89_500 + i * 10);
    assert.equal(calls.total, 100);
    assert.equal(calls.peakIn(60_000), 90);
    assert.equal(calls.peakIn(200_000), 100);
  });
  await t.step("calls past the horizon count in its last millisecond", () => {
    const calls = new CallCounter(1_000);
    calls.record(5_000);
    calls.record(-3);
    assert.equal(calls.total, 2);
    assert.equal(calls.peakIn(1_000), 2);
    assert.equal(calls.peakIn(1), 1);
  });
});

Deno.test("StaleWitness counts a good answer given less than the window before the send", () => {
  const witness = new StaleWitness(630_000);
  assert.equal(witness.existed("Place 1", 1_000), false);
  witness.answeredWell("Place 1", 2_000);
  assert.equal(witness.existed("Place 1", 2_000), true);
  assert.equal(witness.existed("Place 1", 631_999), true);
  assert.equal(witness.existed("Place 1", 632_000), false);
  assert.equal(witness.existed("Place 2", 3_000), false);
  // An answer received after the send is no evidence for it.
  assert.equal(witness.existed("Place 1", 1_500), false);
  // Out of order: an earlier completion does not move the last good answer back.
  witness.answeredWell("Place 1", 10_000);
  witness.answeredWell("Place 1", 9_000);
  assert.equal(witness.existed("Place 1", 639_999), true);
});

Deno.test("Tally counts waits, errors where stale existed and rate-limited new names", () => {
  const tally = new Tally();
  const answer = { askedBefore: true, newName: false, staleExisted: false, inOutage: false };
  tally.add({ ...answer, askedBefore: false, newName: true, ms: 160, outcome: "ok" });
  tally.add({ ...answer, ms: 1.2, outcome: "ok" });
  tally.add({
    ...answer,
    ms: 150,
    outcome: "UPSTREAM_UNAVAILABLE",
    staleExisted: true,
    inOutage: true,
  });
  tally.add({ ...answer, ms: 149, outcome: "UPSTREAM_UNAVAILABLE" });
  tally.add({
    ...answer,
    askedBefore: false,
    newName: true,
    ms: 2,
    outcome: "UPSTREAM_RATE_LIMITED",
  });
  assert.equal(tally.answers, 5);
  assert.equal(tally.askedBefore, 3);
  assert.equal(tally.waited, 3);
  assert.equal(tally.waitedAskedBefore, 2);
  assert.equal(tally.waitedAskedBeforeInOutage, 1);
  assert.equal(tally.errorsWhereStale, 1);
  assert.deepEqual(
    [...tally.errors],
    [["UPSTREAM_UNAVAILABLE", 2], ["UPSTREAM_RATE_LIMITED", 1]],
  );
  assert.equal(tally.newNames, 2);
  assert.equal(tally.newNamesRateLimited, 1);
  assert.deepEqual(tally.latenciesAskedBefore, [1.2, 150, 149]);
});

Deno.test("metricSeries() and metricSum() read Prometheus text, a missing series as 0", () => {
  const text = [
    "# HELP weather_cache_lookups_total Cache lookups",
    "# TYPE weather_cache_lookups_total counter",
    'weather_cache_lookups_total{action="weather",result="hit"} 120',
    'weather_cache_lookups_total{action="weather",result="stale"} 12',
    'weather_cache_lookups_total{action="forecast",result="stale"} 3',
    'weather_refreshes_total{action="weather",outcome="ok"} 7',
    'openweather_budget_refused_total{kind="known",reason="limit"} 2',
    'openweather_budget_refused_total{kind="unknown",reason="unknown_share"} 5',
    'odd_label{path="a \\"quoted\\" name"} 1',
    "process_start_time_seconds 1764000000",
  ].join("\n");
  const stale = { action: "weather", result: "stale" };
  assert.equal(metricSum(text, "weather_cache_lookups_total", stale), 12);
  assert.equal(metricSum(text, "weather_cache_lookups_total", { result: "stale" }), 15);
  assert.equal(metricSum(text, "weather_cache_lookups_total", { result: "shared" }), 0);
  assert.equal(metricSum(text, "openweather_budget_refused_total", {}), 7);
  assert.equal(metricSum(text, "no_such_metric", {}), 0);
  assert.equal(metricSum(text, "process_start_time_seconds", {}), 1764000000);
  assert.deepEqual(metricSeries(text, "weather_refreshes_total"), [
    { labels: { action: "weather", outcome: "ok" }, value: 7 },
  ]);
  assert.deepEqual(metricSeries(text, "odd_label")[0]?.labels, { path: 'a "quoted" name' });
});
