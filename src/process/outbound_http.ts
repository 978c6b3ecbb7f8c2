/**
 * Outbound GETs whose URL may carry a secret: OpenWeatherMap takes its key
 * only as the `appid` query parameter, and an identity provider's key set URL
 * may be signed (`?sig=...`).
 *
 * Deno traces every fetch (and node:http request) with its full URL in
 * `url.full` and `url.query`, with no way to turn that off per call, so while
 * Deno may trace (OTEL_DENO, or always on Deno Deploy) a fetch would ship the
 * secret to the tracing backend. Then these calls go through undici, which
 * speaks HTTP over node:net, which Deno does not trace, inside a span of our
 * own that carries only safe attributes. When nothing traces, they are plain
 * fetches, and undici and @opentelemetry/api are never loaded: together they
 * took about 30 ms of every cold start.
 */

/**
 * Environment variables undici itself reads (its HTTP/1 parser loader checks
 * these two). Under `--allow-env=<list>` an unlisted read throws, so the
 * permission set grants these beside the service's own variables.
 */
export const UNDICI_ENV_READS = ["JEST_WORKER_ID", "UNDICI_NO_WASM_SIMD"] as const;

/** An answer's status and a body that can be read (bounded) or thrown away. */
export interface OutboundAnswer {
  status: number;
  body: AsyncIterable<Uint8Array>;
  discard(): Promise<void>;
}

export interface OutboundHttp {
  /** No redirects are followed: a 3xx is an answer like any other. */
  get(url: URL, signal: AbortSignal): Promise<OutboundAnswer>;
  /** Closes pooled connections; for shutdown. */
  close(): Promise<void>;
}

export interface OutboundHttpOptions {
  /** Deno may trace outbound calls: never let it see the URL. */
  traced: boolean;
  /** For undici's connection pool; each call also has its own signal. */
  connectTimeoutMs: number;
}

export function createOutboundHttp(options: OutboundHttpOptions): OutboundHttp {
  const transport = options.traced
    ? undiciTransport(options.connectTimeoutMs)
    : Promise.resolve(fetchTransport());
  return {
    get: async (url, signal) => await (await transport).get(url, signal),
    close: async () => await (await transport).close(),
  };
}

/** Deno's fetch: for when nothing traces it, so the URL goes nowhere else. */
function fetchTransport(): OutboundHttp {
  return {
    async get(url, signal) {
      const response = await fetch(url, {
        signal,
        redirect: "manual",
        headers: { accept: "application/json" },
      });
      const body = response.body ?? ReadableStream.from<Uint8Array>([]);
      return { status: response.status, body, discard: () => body.cancel() };
    },
    close: () => Promise.resolve(),
  };
}

/** undici over node:net, which Deno does not trace; loaded only when tracing may be on. */
async function undiciTransport(connectTimeoutMs: number): Promise<OutboundHttp> {
  const { Agent, request } = await import("undici");
  // One pool per client, so shutting the service down closes its sockets.
  const agent = new Agent({ connect: { timeout: connectTimeoutMs } });
  return {
    async get(url, signal) {
      const response = await request(url, {
        method: "GET",
        dispatcher: agent,
        signal,
        headers: { accept: "application/json" },
      });
      return {
        status: response.statusCode,
        body: response.body,
        discard: () => response.body.dump(),
      };
    },
    close: () => agent.close(),
  };
}

/** How a failed call shows in its span: the answer's status if there was one, and a type. */
export interface SpanFailure {
  status?: number | undefined;
  type: string;
}

export interface ClientSpan {
  /** Whether spans are recorded at all (Deno may trace). */
  traced: boolean;
  name: string;
  /** Only what is safe to export: host, port, path, a redacted URL. Never a query value. */
  attributes: Record<string, string | number>;
  describeFailure(error: unknown): SpanFailure;
}

let openTelemetry: Promise<typeof import("@opentelemetry/api")> | undefined;

/** Runs `call` inside a client span when tracing may be on, else simply runs it. */
export async function inClientSpan<T>(span: ClientSpan, call: () => Promise<T>): Promise<T> {
  if (!span.traced) return await call();
  const { SpanKind, SpanStatusCode, trace } = await (openTelemetry ??= import(
    "@opentelemetry/api"
  ));
  const tracer = trace.getTracer("genesys-weather-action");
  return await tracer.startActiveSpan(
    span.name,
    { kind: SpanKind.CLIENT, attributes: span.attributes },
    async (active) => {
      try {
        const result = await call();
        active.setAttribute("http.response.status_code", 200);
        return result;
      } catch (error) {
        const failure = span.describeFailure(error);
        if (failure.status !== undefined) {
          active.setAttribute("http.response.status_code", failure.status);
        }
        active.setAttribute("error.type", failure.type);
        active.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        active.end();
      }
    },
  );
}

/** The span attributes every outbound GET shares. */
export function requestAttributes(url: URL): Record<string, string | number> {
  return {
    "http.request.method": "GET",
    "server.address": url.hostname,
    "server.port": Number(url.port) || (url.protocol === "https:" ? 443 : 80),
    "url.path": url.pathname,
  };
}
