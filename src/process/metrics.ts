/**
 * Prometheus metrics, one registry per service instance so tests stay
 * independent. Labels are bounded sets (route names, status codes, outcome
 * codes), never caller-supplied text.
 *
 * Counters, gauges and one histogram, written in the text exposition format
 * by hand rather than with prom-client: loading prom-client (and bintrees,
 * tdigest through it) took about 15 ms of every cold start, a tenth of the
 * whole, on Deno Deploy where instances start on demand, and its label
 * hashing showed in the hot path's profile. The output is byte-for-byte what
 * prom-client writes for the same events (tests/process/metrics_format_test.ts
 * compares the two over random event sequences).
 */

/** `shared`: not in this instance's memory, answered from the shared store. */
export type CacheResult = "hit" | "shared" | "miss" | "stale";
/** Whether a call was for a city that answered before, or for a name never seen (or not found). */
export type CityKind = "known" | "unknown";
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
  /** An upstream call the budget let through, by the kind of name it was for. */
  budgetSpent(kind: CityKind): void;
  /** A call the budget held back, and why ("limit", "unknown_share", "backoff"). */
  budgetRefused(kind: CityKind, reason: string): void;
  /** The shared store's state (1 up, 0 down), by backend. */
  sharedStoreUp(backend: string, up: boolean): void;
  /** A failed (or timed-out, or garbled) shared store call, by operation. */
  sharedStoreError(backend: string, operation: string): void;
  tokenVerification(result: TokenVerification): void;
  /** One per weather action answer: "ok", or the `error_code` the caller got (in a 200 or an HTTP error). */
  weatherAnswer(outcome: string): void;
  /** REQUEST_DEADLINE_MS, exported so alerts compare latency with the deadline actually configured. */
  requestDeadline(seconds: number): void;
  /** Upstream calls the quota guard still allows in the current minute, read at every scrape. */
  upstreamBudget(remaining: () => number): void;
  /** Whether the identity provider's key set is usable, read at every scrape (jwt with AUTH_JWKS_URL only). */
  keySet(usable: () => boolean): void;
}

/**
 * The label values known in advance, so each series exists (at 0) from the
 * start: `increase()` then sees the first failure after a restart.
 */
export interface KnownOutcomes {
  /** error_codes an upstream call can end in. */
  readonly upstream: readonly string[];
  /** error_codes a weather answer can carry, upstream or HTTP. */
  readonly answers: readonly string[];
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const CACHE_RESULTS: readonly CacheResult[] = ["hit", "miss", "stale"];
const TOKEN_VERIFICATIONS: readonly TokenVerification[] = ["hit", "miss", "rejected"];

/** A label value as the caller passes it: a status code stays a number until it is rendered. */
type LabelValue = string | number;

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

/** `name="value",...` without the braces, so a histogram can put `le` in front. */
function formatPairs(names: readonly string[], values: readonly LabelValue[]): string {
  return names.map((name, index) => `${name}="${escapeLabelValue(String(values[index]))}"`)
    .join(",");
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

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

/**
 * A family's series, found by their raw label values through one Map level
 * per label. Recording runs on every request, so it builds no string, sorts
 * or hashes no label object and allocates nothing once a series exists: a
 * lookup is one `Map.get` per label on values the caller already holds. The
 * label text is rendered (and escaped) once, when a series is first seen.
 * Label values are bounded sets, so the Maps are too.
 */
class SeriesSet<S> {
  /** In the order first seen, as prom-client lists them. */
  readonly all: S[] = [];
  readonly #byValue = new Map<LabelValue, unknown>();

  constructor(
    private readonly labelNames: readonly string[],
    /** Makes a series from its rendered `name="value",...` pairs. */
    private readonly create: (pairs: string) => S,
  ) {}

  /** The series of an unlabelled family. */
  only(): S {
    return this.all[0] ?? this.#add(this.#byValue, "", []);
  }

  one(a: LabelValue): S {
    return (this.#byValue.get(a) as S | undefined) ?? this.#add(this.#byValue, a, [a]);
  }

  two(a: LabelValue, b: LabelValue): S {
    const level = this.#level(this.#byValue, a);
    return (level.get(b) as S | undefined) ?? this.#add(level, b, [a, b]);
  }

  three(a: LabelValue, b: LabelValue, c: LabelValue): S {
    const level = this.#level(this.#level(this.#byValue, a), b);
    return (level.get(c) as S | undefined) ?? this.#add(level, c, [a, b, c]);
  }

  #level(map: Map<LabelValue, unknown>, key: LabelValue): Map<LabelValue, unknown> {
    let next = map.get(key) as Map<LabelValue, unknown> | undefined;
    if (next === undefined) {
      next = new Map();
      map.set(key, next);
    }
    return next;
  }

  #add(map: Map<LabelValue, unknown>, key: LabelValue, values: readonly LabelValue[]): S {
    const series = this.create(formatPairs(this.labelNames, values));
    map.set(key, series);
    this.all.push(series);
    return series;
  }
}

/** A counter's or gauge's series: its labels, rendered once, and a plain number. */
interface Cell {
  readonly labels: string;
  value: number;
}

/** Counters and gauges: a number per series. */
function createSeries(
  name: string,
  help: string,
  type: "counter" | "gauge",
  labelNames: readonly string[],
): Family & { series: SeriesSet<Cell> } {
  const series = new SeriesSet<Cell>(labelNames, (pairs) => ({ labels: braced(pairs), value: 0 }));
  return {
    series,
    render: () =>
      [
        ...header(name, help, type),
        ...series.all.map(({ labels, value }) => `${name}${labels} ${formatValue(value)}`),
      ].join("\n"),
  };
}

/** A histogram's series: counts per bucket (not yet cumulative), sum and count. */
interface Distribution {
  readonly pairs: string;
  readonly counts: number[];
  sum: number;
  count: number;
}

function createHistogram(
  name: string,
  help: string,
  labelNames: readonly string[],
  buckets: readonly number[],
): Family & { series: SeriesSet<Distribution>; observe(into: Distribution, value: number): void } {
  const series = new SeriesSet<Distribution>(labelNames, (pairs) => ({
    pairs,
    counts: buckets.map(() => 0),
    sum: 0,
    count: 0,
  }));
  return {
    series,
    observe: (into, value) => {
      // The first bound the value fits under; none for a value above them all (or NaN), as in
      // prom-client, where it then counts only in +Inf, the sum and the count.
      let bucket = 0;
      while (bucket < buckets.length && !(value <= buckets[bucket]!)) bucket++;
      if (bucket < buckets.length) into.counts[bucket]! += 1;
      into.sum += value;
      into.count += 1;
    },
    render: () => {
      const lines = header(name, help, "histogram");
      for (const { pairs, counts, sum, count } of series.all) {
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
    },
  };
}

/** An unlabelled gauge read when scraped. */
function createCollectedGauge(name: string, help: string, collect: () => number): Family {
  return {
    render: () => [...header(name, help, "gauge"), `${name} ${formatValue(collect())}`].join("\n"),
  };
}

export function createMetrics(known: KnownOutcomes): Metrics {
  const requests = createSeries(
    "http_requests_total",
    "HTTP requests answered, by route, method and status",
    "counter",
    ["route", "method", "status"],
  );
  const duration = createHistogram(
    "http_request_duration_seconds",
    "Time to answer, by route",
    ["route"],
    DURATION_BUCKETS,
  );
  const upstream = createSeries(
    "openweather_calls_total",
    'OpenWeatherMap calls by outcome ("ok", an error_code, or "throttled" when the guard avoided the call)',
    "counter",
    ["outcome"],
  );
  const cache = createSeries(
    "weather_cache_lookups_total",
    "Weather cache lookups by result (hit: this instance's memory, shared: the shared store, miss, stale)",
    "counter",
    ["result"],
  );
  const budgetSpent = createSeries(
    "openweather_budget_spent_total",
    'OpenWeatherMap calls the budget let through, by kind ("known": the city answered before, "unknown": a name never answered or last not found)',
    "counter",
    ["kind"],
  );
  const budgetRefused = createSeries(
    "openweather_budget_refused_total",
    'Calls the budget held back, by kind and reason ("limit", "unknown_share": the unknown names\' share is used up, "backoff")',
    "counter",
    ["kind", "reason"],
  );
  const storeUp = createSeries(
    "shared_store_up",
    "1 while the shared store (SHARED_STORE_URL) answers, 0 while the service runs without it",
    "gauge",
    ["backend"],
  );
  const storeErrors = createSeries(
    "shared_store_errors_total",
    "Shared store calls that failed, timed out or answered garbage, by operation",
    "counter",
    ["backend", "operation"],
  );
  const tokens = createSeries(
    "auth_token_verifications_total",
    "Bearer token checks by result (hit: from the verification cache, miss: verified, rejected)",
    "counter",
    ["result"],
  );
  const answers = createSeries(
    "weather_answers_total",
    'Weather action answers by outcome ("ok", or the error_code the caller got)',
    "counter",
    ["outcome"],
  );
  const deadline = createSeries(
    "weather_request_deadline_seconds",
    "REQUEST_DEADLINE_MS in seconds: every weather request is answered within this",
    "gauge",
    [],
  );
  // An unlabelled gauge reads 0 before it is set, as prom-client's does.
  deadline.series.only();
  const memory = createCollectedGauge(
    "process_resident_memory_bytes",
    "Resident set size",
    () => Deno.memoryUsage().rss,
  );
  // Every known label value starts at 0, so the first failure after start is an increase that
  // alerts can see (a series born at 1 has no increase), and the series exist before they occur.
  for (const outcome of ["ok", "throttled", ...known.upstream]) upstream.series.one(outcome);
  for (const outcome of ["ok", ...known.answers]) answers.series.one(outcome);
  for (const result of CACHE_RESULTS) cache.series.one(result);
  for (const result of TOKEN_VERIFICATIONS) tokens.series.one(result);

  // In registration order, as prom-client lists them; the scrape-time gauges come last.
  const families: Family[] = [
    requests,
    duration,
    upstream,
    cache,
    budgetSpent,
    budgetRefused,
    storeUp,
    storeErrors,
    tokens,
    answers,
    deadline,
    memory,
  ];
  return {
    registry: {
      metrics: () => Promise.resolve(families.map((family) => family.render()).join("\n\n") + "\n"),
      contentType: CONTENT_TYPE,
    },
    request: (route, method, status, seconds) => {
      requests.series.three(route, method, status).value += 1;
      duration.observe(duration.series.one(route), seconds);
    },
    upstreamCall: (outcome) => upstream.series.one(outcome).value += 1,
    weatherCache: (result) => cache.series.one(result).value += 1,
    budgetSpent: (kind) => budgetSpent.series.one(kind).value += 1,
    budgetRefused: (kind, reason) => budgetRefused.series.two(kind, reason).value += 1,
    sharedStoreUp: (backend, up) => storeUp.series.one(backend).value = up ? 1 : 0,
    sharedStoreError: (backend, operation) => storeErrors.series.two(backend, operation).value += 1,
    tokenVerification: (result) => tokens.series.one(result).value += 1,
    weatherAnswer: (outcome) => answers.series.one(outcome).value += 1,
    requestDeadline: (seconds) => deadline.series.only().value = seconds,
    upstreamBudget: (remaining) => {
      families.push(createCollectedGauge(
        "openweather_call_budget_remaining",
        "Calls to OpenWeatherMap that OPENWEATHER_MAX_CALLS_PER_MINUTE still allows right now",
        remaining,
      ));
    },
    keySet: (usable) => {
      families.push(createCollectedGauge(
        "auth_key_set_usable",
        "1 while the identity provider's key set (AUTH_JWKS_URL) has usable keys, else 0",
        () => usable() ? 1 : 0,
      ));
    },
  };
}
