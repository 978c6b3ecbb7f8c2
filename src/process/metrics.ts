/**
 * A small Prometheus metrics engine: counter, gauge and histogram families
 * with labels, written in the text exposition format. It knows no domain:
 * each domain declares its families next to its code (`src/*\/metrics.ts`) as
 * a table of definitions, the composition root builds one registry with
 * every table, and each domain records through its own table's recorders.
 * One registry per service instance, so tests stay independent. Labels are
 * bounded sets (route names, status codes, outcome codes), never
 * caller-supplied text.
 *
 * Written by hand rather than with prom-client: loading prom-client (and
 * bintrees, tdigest through it) took about 15 ms of every cold start, a tenth
 * of the whole, on Deno Deploy where instances start on demand. The output is
 * byte-for-byte what prom-client writes for the same definitions and events
 * (tests/process/metrics_format_test.ts builds a prom-client registry from
 * the same tables and compares the two over random event sequences).
 */

/** A label value as the caller passes it: a status code stays a number until it is rendered. */
export type LabelValue = string | number;

export interface FamilyDefinition {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  /** The label names, in the order recorders take their values. */
  readonly labels: readonly string[];
  /** Histograms only: the buckets' upper bounds, ascending. */
  readonly buckets?: readonly number[];
  /**
   * Values of each label, by label name, whose series exist, at 0, from the
   * start (every combination, in label order): the first failure after a
   * restart is then an increase that alerts can see (a series born at 1 has
   * no increase). Any other series exists once it is first recorded, an
   * unlabelled family's one too: a gauge that nothing sets or reads (the key
   * set's, without a key set) exports no misleading 0, only its HELP and
   * TYPE lines.
   */
  readonly known?: Readonly<Record<string, readonly string[]>>;
}

/** One domain's families, by the name its code records them under. */
export type FamilyTable = Readonly<Record<string, FamilyDefinition>>;

/** One value per label name, in the definition's order. */
type ValuesFor<Names extends readonly string[]> = { readonly [I in keyof Names]: LabelValue };
type LabelValues<D extends FamilyDefinition> = ValuesFor<D["labels"]>;

export interface Counter<V extends readonly LabelValue[]> {
  /** Adds 1 to the series of these label values. */
  inc(...labels: V): void;
}

export interface Gauge<V extends readonly LabelValue[]> {
  set(value: number, ...labels: V): void;
  /** Reads the series' value from `read` at every scrape, from now on. */
  setSource(read: () => number, ...labels: V): void;
}

export interface Histogram<V extends readonly LabelValue[]> {
  observe(value: number, ...labels: V): void;
}

export type Recorder<D extends FamilyDefinition> = D["type"] extends "counter"
  ? Counter<LabelValues<D>>
  : D["type"] extends "gauge" ? Gauge<LabelValues<D>>
  : Histogram<LabelValues<D>>;

/** A table's recorders, under the table's names. */
export type Recorders<T extends FamilyTable> = { readonly [K in keyof T]: Recorder<T[K]> };

export interface MetricsRegistry {
  /** The exposition text, as GET /metrics serves it. */
  metrics(): Promise<string>;
  readonly contentType: string;
  /** Recorders for a table the registry was built with; any other is a bug, and throws. */
  recorders<T extends FamilyTable>(table: T): Recorders<T>;
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The process's own families. */
export const PROCESS_METRICS = {
  residentMemory: {
    name: "process_resident_memory_bytes",
    help: "Resident set size",
    type: "gauge",
    labels: [],
  },
} as const satisfies FamilyTable;

/** Binds the process's families to their sources, read at every scrape. */
export function recordProcessMetrics(registry: MetricsRegistry): void {
  registry.recorders(PROCESS_METRICS).residentMemory.setSource(() => Deno.memoryUsage().rss);
}

/**
 * The registry, built once with every family it will ever export, listed in
 * the order of `tables` and then of each table (as prom-client lists them in
 * the order they were registered).
 */
export function createMetricsRegistry(tables: readonly FamilyTable[]): MetricsRegistry {
  const families = new Map<string, Family>();
  for (const definition of tables.flatMap((table) => Object.values(table))) {
    if (families.has(definition.name)) {
      throw new Error(`Metric family "${definition.name}" is declared twice`);
    }
    families.set(definition.name, new Family(definition));
  }
  return {
    metrics: () =>
      Promise.resolve([...families.values()].map((family) => family.render()).join("\n\n") + "\n"),
    contentType: CONTENT_TYPE,
    recorders: <T extends FamilyTable>(table: T) => {
      const recorders = Object.entries(table).map(([key, definition]) => {
        const family = families.get(definition.name);
        if (family?.definition !== definition) {
          throw new Error(`Metric family "${definition.name}" is not in this registry`);
        }
        return [key, family.recorder()];
      });
      return Object.fromEntries(recorders) as Recorders<T>;
    },
  };
}

/** A series: its labels, rendered once; its value, or its histogram's counts. */
interface Series {
  /** `name="value",...` without the braces, so a histogram can put `le` in front. */
  readonly pairs: string;
  value: number;
  read?: () => number;
  /** Histograms: counts per bucket (not yet cumulative), sum and count. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A node of the series tree: one level per label, so a lookup is one Map.get per label. */
interface Node {
  series?: Series;
  readonly next: Map<string, Node>;
}

class Family {
  /** In the order first seen, as prom-client lists them. */
  readonly #series: Series[] = [];
  readonly #root: Node = { next: new Map() };

  constructor(readonly definition: FamilyDefinition) {
    const { name, labels, known, type, buckets } = definition;
    if (known !== undefined && labels.some((label) => !Object.hasOwn(known, label))) {
      throw new Error(`Metric family "${name}": known values must name every label`);
    }
    if ((type === "histogram") !== (buckets !== undefined)) {
      throw new Error(`Metric family "${name}": buckets go with a histogram, and only there`);
    }
    for (const values of knownSeries(definition)) this.#find(values);
  }

  recorder(): Counter<LabelValue[]> | Gauge<LabelValue[]> | Histogram<LabelValue[]> {
    switch (this.definition.type) {
      case "counter":
        return {
          inc: (...labels) => {
            this.#find(labels).value += 1;
          },
        };
      case "gauge":
        return {
          set: (value, ...labels) => {
            this.#find(labels).value = value;
          },
          setSource: (read, ...labels) => {
            this.#find(labels).read = read;
          },
        };
      case "histogram":
        return { observe: (value, ...labels) => this.#observe(this.#find(labels), value) };
    }
  }

  /** The series of these label values, made (at 0) when first seen. */
  #find(labels: readonly LabelValue[]): Series {
    let node = this.#root;
    for (const label of labels) {
      // A status code counts as its text, as in prom-client: 200 and "200" are one series.
      const key = String(label);
      let next = node.next.get(key);
      if (next === undefined) {
        next = { next: new Map() };
        node.next.set(key, next);
      }
      node = next;
    }
    if (node.series === undefined) {
      node.series = {
        pairs: this.definition.labels
          .map((name, index) => `${name}="${escapeLabelValue(String(labels[index]))}"`)
          .join(","),
        value: 0,
        counts: (this.definition.buckets ?? []).map(() => 0),
        sum: 0,
        count: 0,
      };
      this.#series.push(node.series);
    }
    return node.series;
  }

  #observe(into: Series, value: number): void {
    const buckets = this.definition.buckets ?? [];
    // The first bound the value fits under; none for a value above them all (or NaN), as in
    // prom-client, where it then counts only in +Inf, the sum and the count.
    const bucket = buckets.findIndex((bound) => value <= bound);
    if (bucket !== -1) into.counts[bucket]! += 1;
    into.sum += value;
    into.count += 1;
  }

  render(): string {
    const { name, help, type, buckets = [] } = this.definition;
    const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
    for (const { pairs, value, read, counts, sum, count } of this.#series) {
      if (type !== "histogram") {
        lines.push(`${name}${braced(pairs)} ${formatValue(read ? read() : value)}`);
        continue;
      }
      const rest = pairs === "" ? "" : `,${pairs}`;
      let cumulative = 0;
      buckets.forEach((bound, index) => {
        cumulative += counts[index]!;
        lines.push(`${name}_bucket{le="${formatValue(bound)}"${rest}} ${cumulative}`);
      });
      lines.push(`${name}_bucket{le="+Inf"${rest}} ${count}`);
      lines.push(`${name}_sum${braced(pairs)} ${formatValue(sum)}`);
      lines.push(`${name}_count${braced(pairs)} ${formatValue(count)}`);
    }
    return lines.join("\n");
  }
}

/** The label values of every series `known` makes at the start, in the order they are made. */
export function knownSeries({ labels, known }: FamilyDefinition): string[][] {
  if (known === undefined) return [];
  return labels.reduce<string[][]>(
    (series, label) => series.flatMap((values) => known[label]!.map((value) => [...values, value])),
    [[]],
  );
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function braced(pairs: string): string {
  return pairs === "" ? "" : `{${pairs}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "Nan";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return `${value}`;
}
