/**
 * The reference for tests/process/metrics_format_test.ts: a registry that
 * prom-client builds from the same family tables as the service's, behind
 * the same interface. src/process/metrics.ts writes the text by hand
 * (prom-client costs every cold start); this keeps it honest.
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  type FamilyDefinition,
  type FamilyTable,
  knownSeries,
  type LabelValue,
  type MetricsRegistry,
  type Recorders,
} from "../../src/process/metrics.ts";

type Labels = Record<string, LabelValue>;

export function promClientRegistry(tables: readonly FamilyTable[]): MetricsRegistry {
  const registry = new Registry();
  const recorders = new Map<FamilyDefinition, unknown>();
  for (const definition of tables.flatMap((table) => Object.values(table))) {
    recorders.set(definition, register(definition, registry));
  }
  return {
    metrics: () => registry.metrics(),
    contentType: registry.contentType,
    recorders: <T extends FamilyTable>(table: T) => {
      const entries = Object.entries(table).map(([key, definition]) => {
        if (!recorders.has(definition)) {
          throw new Error(`Metric family "${definition.name}" is not in this registry`);
        }
        return [key, recorders.get(definition)];
      });
      return Object.fromEntries(entries) as Recorders<T>;
    },
  };
}

/** The family as a prom-client metric in `registry`, and its recorder. */
function register(definition: FamilyDefinition, registry: Registry): unknown {
  const { name, help, labels: labelNames } = definition;
  // prom-client starts an unlabelled series at 0: each removes it below, since the service's
  // series exist once they are first recorded.
  const labelsOf = (values: readonly LabelValue[]): Labels =>
    Object.fromEntries(labelNames.map((label, index) => [label, values[index]!]));
  const common = { name, help, labelNames, registers: [registry] };
  switch (definition.type) {
    case "counter": {
      const counter = new Counter(common);
      for (const values of knownSeries(definition)) counter.inc(labelsOf(values), 0);
      if (labelNames.length === 0) counter.remove();
      return { inc: (...values: LabelValue[]) => counter.inc(labelsOf(values)) };
    }
    case "gauge": {
      const sources = new Map<string, { labels: Labels; read: () => number }>();
      const gauge = new Gauge({
        ...common,
        collect() {
          for (const { labels, read } of sources.values()) this.set(labels, read());
        },
      });
      for (const values of knownSeries(definition)) gauge.set(labelsOf(values), 0);
      if (labelNames.length === 0) gauge.remove();
      return {
        set: (value: number, ...values: LabelValue[]) => gauge.set(labelsOf(values), value),
        setSource: (read: () => number, ...values: LabelValue[]) => {
          const labels = labelsOf(values);
          // Made now, not at the next scrape, so it keeps its place among the family's series.
          gauge.set(labels, read());
          sources.set(JSON.stringify(values.map(String)), { labels, read });
        },
      };
    }
    case "histogram": {
      const histogram = new Histogram({ ...common, buckets: [...definition.buckets ?? []] });
      for (const values of knownSeries(definition)) histogram.zero(labelsOf(values));
      if (labelNames.length === 0) histogram.remove();
      return {
        observe: (value: number, ...values: LabelValue[]) =>
          histogram.observe(labelsOf(values), value),
      };
    }
  }
}
