/**
 * Prometheus metrics, one registry per service instance so tests stay
 * independent. Labels are bounded sets (route names, status codes, outcome
 * codes), never caller-supplied text.
 *
 * A few counters and one histogram, written in the text exposition format by
 * hand rather than with prom-client: loading prom-client (and bintrees,
 * tdigest through it) took about 15 ms of every cold start, a tenth of the
 * whole, on Deno Deploy where instances start on demand. The output is
 * byte-for-byte what prom-client wrote (tests/process/metrics_test.ts
 * compares the two).
 */

export type CacheResult = "hit" | "miss" | "stale";
export type TokenVerification = "hit" | "miss" | "rejected";

export interface MetricsRegistry {
  /** The exposition text, as GET /metrics serves it. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface Metrics {
  readonly registry: MetricsRegistry;
  request(route: string, method: string, status: number, seconds: number): void;
  /** One per upstream call made, or avoided by the quota guard ("throttled"). */
  upstreamCall(outcome: string): void;
  weatherCache(result: CacheResult): void;
  tokenVerification(result: TokenVerification): void;
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Labels = Record<string, string>;

/** One metric family: its header and its series, in the order first seen. */
interface Family {
  render(): string;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) =>
    `${name}="${escapeLabelValue(value)}"`
  );
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "Nan";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return `${value}`;
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

function createCounter(name: string, help: string) {
  const series = new Map<string, { labels: Labels; value: number }>();
  return {
    inc(labels: Labels): void {
      const key = formatLabels(labels);
      const entry = series.get(key);
      if (entry) entry.value += 1;
      else series.set(key, { labels, value: 1 });
    },
    render: () =>
      [
        ...header(name, help, "counter"),
        ...[...series.entries()].map(([key, { value }]) => `${name}${key} ${formatValue(value)}`),
      ].join("\n"),
  };
}

function createHistogram(name: string, help: string, buckets: readonly number[]) {
  const series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  return {
    observe(labels: Labels, value: number): void {
      const key = formatLabels(labels);
      let entry = series.get(key);
      if (!entry) {
        entry = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 };
        series.set(key, entry);
      }
      const bucket = buckets.findIndex((bound) => value <= bound);
      if (bucket >= 0) entry.counts[bucket]! += 1;
      entry.sum += value;
      entry.count += 1;
    },
    render: () => {
      const lines = header(name, help, "histogram");
      for (const { labels, counts, sum, count } of series.values()) {
        let cumulative = 0;
        buckets.forEach((bound, index) => {
          cumulative += counts[index]!;
          lines.push(
            `${name}_bucket${formatLabels({ le: formatValue(bound), ...labels })} ${cumulative}`,
          );
        });
        lines.push(`${name}_bucket${formatLabels({ le: "+Inf", ...labels })} ${count}`);
        lines.push(`${name}_sum${formatLabels(labels)} ${formatValue(sum)}`);
        lines.push(`${name}_count${formatLabels(labels)} ${formatValue(count)}`);
      }
      return lines.join("\n");
    },
  };
}

function createGauge(name: string, help: string, collect: () => number): Family {
  return {
    render: () => [...header(name, help, "gauge"), `${name} ${formatValue(collect())}`].join("\n"),
  };
}

export function createMetrics(): Metrics {
  const requests = createCounter(
    "http_requests_total",
    "HTTP requests answered, by route, method and status",
  );
  const duration = createHistogram(
    "http_request_duration_seconds",
    "Time to answer, by route",
    DURATION_BUCKETS,
  );
  const upstream = createCounter(
    "openweather_calls_total",
    'OpenWeatherMap calls by outcome ("ok", an error_code, or "throttled" when the guard avoided the call)',
  );
  const cache = createCounter(
    "weather_cache_lookups_total",
    "Weather cache lookups by result (hit, miss, stale)",
  );
  const tokens = createCounter(
    "auth_token_verifications_total",
    "Bearer token checks by result (hit: from the verification cache, miss: verified, rejected)",
  );
  const memory = createGauge(
    "process_resident_memory_bytes",
    "Resident set size",
    () => Deno.memoryUsage().rss,
  );
  const families: Family[] = [requests, duration, upstream, cache, tokens, memory];
  return {
    registry: {
      metrics: () => Promise.resolve(families.map((family) => family.render()).join("\n\n") + "\n"),
      contentType: CONTENT_TYPE,
    },
    request: (route, method, status, seconds) => {
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route }, seconds);
    },
    upstreamCall: (outcome) => upstream.inc({ outcome }),
    weatherCache: (result) => cache.inc({ result }),
    tokenVerification: (result) => tokens.inc({ result }),
  };
}
