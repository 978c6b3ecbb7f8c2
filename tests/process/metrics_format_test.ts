import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createMetricsRegistry,
  type FamilyDefinition,
  type LabelValue,
  type MetricsRegistry,
  PROCESS_METRICS,
  recordProcessMetrics,
} from "../../src/process/metrics.ts";
import { METRIC_FAMILIES } from "../../src/service.ts";
import { promClientRegistry } from "../support/prom_client_metrics.ts";

/** Every family the service exports, each recorded through its own table. */
const FAMILIES = METRIC_FAMILIES.flatMap((table) => Object.values(table) as FamilyDefinition[]);

/** Any recorder, whatever its family's type: each event calls the one its family has. */
interface AnyRecorder {
  inc(...labels: LabelValue[]): void;
  set(value: number, ...labels: LabelValue[]): void;
  setSource(read: () => number, ...labels: LabelValue[]): void;
  observe(value: number, ...labels: LabelValue[]): void;
}

function recorderOf(registry: MetricsRegistry, definition: FamilyDefinition): AnyRecorder {
  return registry.recorders({ family: definition }).family as unknown as AnyRecorder;
}

/** One recording on a registry. */
type Event = (registry: MetricsRegistry) => void;

const BOUNDS = [0, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5];
// Each label draws from a small shared pool, so events often land on the same series ("GET"
// as a route too: each label keeps its own values, whatever the others hold; a status as a
// number and as text is one series), or from its family's known values.
const COMMON_VALUES: LabelValue[] = ["GET", "ok", 200, "200", 'odd "value"\\\n'];

function eventOn(definition: FamilyDefinition): fc.Arbitrary<Event> {
  const valueOf = (label: string) => {
    const known = definition.known?.[label];
    return known
      ? fc.oneof(fc.constantFrom(...COMMON_VALUES), fc.constantFrom(...known))
      : fc.constantFrom(...COMMON_VALUES);
  };
  const labels = fc.tuple(...definition.labels.map(valueOf));
  const record = (apply: (recorder: AnyRecorder) => void): Event => (registry) =>
    apply(recorderOf(registry, definition));
  switch (definition.type) {
    case "counter":
      return labels.map((values) => record((recorder) => recorder.inc(...values)));
    case "gauge":
      return fc.oneof(
        fc.tuple(fc.double({ min: 0, max: 60, noNaN: true }), labels).map(([amount, values]) =>
          record((recorder) => recorder.set(amount, ...values))
        ),
        fc.tuple(fc.integer({ min: 0, max: 60 }), labels).map(([amount, values]) =>
          record((recorder) => recorder.setSource(() => amount, ...values))
        ),
      );
    case "histogram":
      return fc.tuple(
        fc.oneof(fc.constantFrom(...BOUNDS), fc.double({ min: 0, max: 10, noNaN: true })),
        labels,
      ).map(([seconds, values]) => record((recorder) => recorder.observe(seconds, ...values)));
  }
}

Deno.test("createMetricsRegistry() writes exactly what prom-client writes, for any sequence of events", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(...FAMILIES.map(eventOn)), { maxLength: 60 }),
      async (events) => {
        const ours = createMetricsRegistry(METRIC_FAMILIES);
        const reference = promClientRegistry(METRIC_FAMILIES);
        for (const registry of [ours, reference]) {
          for (const apply of events) apply(registry);
        }
        assert.equal(await ours.metrics(), await reference.metrics());
        assert.equal(ours.contentType, reference.contentType);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("createMetricsRegistry() refuses a family it was not built with, or one declared twice", () => {
  const registry = createMetricsRegistry([PROCESS_METRICS]);
  assert.throws(
    () => registry.recorders({ copy: { ...PROCESS_METRICS.residentMemory } }),
    /Metric family "process_resident_memory_bytes" is not in this registry/,
  );
  assert.throws(
    () => createMetricsRegistry([PROCESS_METRICS, PROCESS_METRICS]),
    /Metric family "process_resident_memory_bytes" is declared twice/,
  );
});

Deno.test("recordProcessMetrics() reports the process's resident memory", async () => {
  const registry = createMetricsRegistry([PROCESS_METRICS]);
  recordProcessMetrics(registry);
  const text = await registry.metrics();
  const rss = Number(text.match(/^process_resident_memory_bytes (\d+)$/m)?.[1]);
  assert.ok(rss > 1024 * 1024, text);
});
