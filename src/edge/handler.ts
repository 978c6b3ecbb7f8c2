/**
 * The HTTP edge: routes, the access log, correlation ids, and the one place
 * where errors become status codes. `createHandler` returns a plain
 * `(request) => Promise<Response>` for `Deno.serve`, `deno serve` and tests.
 */

import type { ClientAddressResolver } from "../http/client_address.ts";
import type { LogFields, Logger } from "../process/log.ts";
import type { MetricsRegistry } from "../process/metrics.ts";
import { RequestError } from "../http/errors.ts";
import { isHostName, pathOf } from "../http/request_path.ts";
import { errorResponse, jsonResponse, type ResponseHeaders } from "../http/responses.ts";
import type { RouteContext, RouteHandler, Routes } from "../http/routes.ts";
import { createRequestSlots } from "../http/request_slots.ts";
import type { BodyRead } from "../process/bounded_body.ts";
import { EDGE_METRICS } from "./metrics.ts";
import type { ActionName } from "../weather/contract.ts";
import type { ForecastAction, WeatherAction } from "../weather/mod.ts";
import { type ActionRouteDeps, createActionRoute } from "./action_route.ts";

export const WEATHER_PATH = "/data-action/weather";
export const FORECAST_PATH = "/data-action/forecast";
export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";
export const METRICS_PATH = "/metrics";

/** Genesys sends this on every action call; echoing it lets an operator match both sides' logs. */
export const CORRELATION_HEADER = "inin-correlation-id";
const ACCEPTABLE_CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** Answered even when MAX_CONCURRENT_REQUESTS are in flight: they are cheap and probes need them. */
const ALWAYS_ANSWERED = new Set([HEALTH_PATH, READY_PATH]);

/** Methods counted under their own name in metrics; any other token a client invents is "OTHER". */
const METHOD_LABELS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface AppDeps extends ActionRouteDeps {
  weatherAction: WeatherAction;
  forecastAction: ForecastAction;
  /** Routes of optional features, e.g. the built-in OAuth server. */
  extraRoutes?: Routes;
  /** Why the service cannot serve yet; empty when ready. */
  notReadyReasons: () => string[];
  metrics: MetricsRegistry;
  logger: Logger;
  /** Milliseconds on a monotonic clock, for request durations. */
  now?: () => number;
  /** The client's address from the peer's (TRUSTED_PROXIES); the peer's own when absent. */
  clientAddress?: ClientAddressResolver;
  /** Past this many requests in flight, answer 503 (MAX_CONCURRENT_REQUESTS). */
  maxConcurrentRequests?: number;
}

/** What Deno.serve passes as its second argument; absent when a test calls the handler directly. */
export interface ConnectionInfo {
  remoteAddr: Deno.Addr;
}

export type Handler = (request: Request, info?: ConnectionInfo) => Promise<Response>;

export function createHandler(deps: AppDeps): Handler {
  const now = deps.now ?? (() => performance.now());
  const metrics = deps.metrics.recorders(EDGE_METRICS);
  metrics.deadline.set(deps.deadlines.ms / 1000);

  const readyRoute = (_request: Request, context: RouteContext) => {
    const reasons = deps.notReadyReasons();
    return reasons.length === 0
      ? jsonResponse({ status: "ready" }, { headers: context.responseHeaders })
      : errorResponse(
        new RequestError("NOT_READY", reasons.join("; ")),
        context.responseHeaders,
      );
  };
  const metricsRoute = async (_request: Request, context: RouteContext) =>
    new Response(await deps.metrics.metrics(), {
      headers: {
        "content-type": deps.metrics.contentType,
        "cache-control": "no-store",
        ...context.responseHeaders,
      },
    });

  // This module's routes put the correlation id in their answers' headers;
  // an optional feature's routes get it added afterwards.
  const ownRoutes: Routes = {
    [WEATHER_PATH]: { POST: createActionRoute("weather", deps.weatherAction, deps) },
    [FORECAST_PATH]: { POST: createActionRoute("forecast", deps.forecastAction, deps) },
    [HEALTH_PATH]: { GET: healthRoute, HEAD: healthRoute },
    [READY_PATH]: { GET: readyRoute, HEAD: readyRoute },
    [METRICS_PATH]: { GET: metricsRoute },
  };
  // Maps, not objects: a method is caller text, and `methods["toString"]` would find Object.prototype's.
  const routes = new Map(
    Object.entries<Routes[string]>({ ...deps.extraRoutes, ...ownRoutes }).map((
      [path, methods],
    ) => [path, new Map(Object.entries(methods) as [string, RouteHandler][])]),
  );
  const addsCorrelationId = new Set(Object.keys(ownRoutes));

  const slots = createRequestSlots(deps.maxConcurrentRequests ?? Infinity);
  metrics.slots.setSource(() => slots.inUse().requests, "request");
  metrics.slots.setSource(() => slots.inUse().lateBodyReads, "late_body_read");

  return async (request, info) => {
    const started = now();
    const correlationId = correlationIdOf(request);
    const context = new RequestContext(request, info, correlationId, deps);
    const host = request.headers.get("host");
    // Only with a host name in Host and in the target's authority does request.url's path
    // come from the request target alone (see request_path.ts). (The query is never logged:
    // with OTEL_DENO=true Deno's own request span exports it, and offers no way to change
    // that; see docs/operations.md, Tracing.)
    const path = (host === null || isHostName(host)) ? pathOf(request.url) : undefined;

    let response: Response;
    const methods = path === undefined ? undefined : routes.get(path);
    const counted = path === undefined || !ALWAYS_ANSWERED.has(path);
    const admitted = !counted || slots.take();
    try {
      if (path === undefined) {
        throw new RequestError("INVALID_HOST", "Host header or request target is not a host name");
      }
      if (!admitted) {
        throw new RequestError("OVERLOADED", "Too many requests in flight, try again shortly", {
          "retry-after": "1",
        });
      }
      if (methods === undefined) throw new RequestError("NOT_FOUND", "No such endpoint");
      const route = methods.get(request.method);
      if (route === undefined) {
        const allow = [...methods.keys()].join(", ");
        throw new RequestError("METHOD_NOT_ALLOWED", `Method must be one of ${allow}`, {
          allow,
        });
      }
      response = await route(request, context);
      if (!addsCorrelationId.has(path)) response.headers.set(CORRELATION_HEADER, correlationId);
    } catch (error) {
      response = toErrorResponse(error, context);
    } finally {
      if (counted && admitted) slots.release(context.bodyRead);
    }
    // A body left unread is not cancelled on purpose: Deno then answers with
    // `Connection: close` and closes once the client has sent it, where a
    // cancelled body would keep the connection open for another request.

    const elapsedMs = now() - started;
    // Unknown paths and methods share one label each, so scanners cannot blow up the metric's cardinality.
    const routeLabel = methods === undefined || path === undefined ? "unmatched" : path;
    // A method is any token a client invents, up to Deno's header limit: log and count it as OTHER.
    const method = METHOD_LABELS.has(request.method) ? request.method : "OTHER";
    metrics.requests.inc(routeLabel, method, response.status);
    metrics.duration.observe(elapsedMs / 1000, routeLabel);
    if (context.action) metrics.answers.inc(context.action, context.errorCode ?? "ok");
    const fields: LogFields = {
      method,
      // An unmatched path is caller text too: the log line cuts it (see log_line.ts).
      path: path ?? "(invalid host)",
      status: response.status,
      duration_ms: Math.round(elapsedMs * 100) / 100,
    };
    if (context.action) fields.action = context.action;
    if (context.errorCode) fields.error_code = context.errorCode;
    if (context.cache) fields.cache = context.cache;
    if (context.subject) fields.subject = context.subject;
    context.logger.info("request", fields);
    return response;
  };
}

/**
 * What a route knows of its request besides the Request, and leaves for the
 * access log. The client's address is worked out on first use (see
 * RouteContext).
 */
class RequestContext implements RouteContext {
  action?: ActionName;
  errorCode?: string;
  subject?: string;
  cache?: string;
  bodyRead?: BodyRead;
  readonly responseHeaders: ResponseHeaders;
  readonly logger: Logger;
  #clientAddress: string | undefined;

  constructor(
    private readonly request: Request,
    private readonly info: ConnectionInfo | undefined,
    correlationId: string,
    private readonly deps: Pick<AppDeps, "logger" | "clientAddress">,
  ) {
    this.logger = deps.logger.child({ correlation_id: correlationId });
    this.responseHeaders = { [CORRELATION_HEADER]: correlationId };
  }

  get clientAddress(): string {
    if (this.#clientAddress === undefined) {
      const { info } = this;
      const peer = info?.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : "local";
      this.#clientAddress = this.deps.clientAddress?.(this.request, peer) ?? peer;
    }
    return this.#clientAddress;
  }
}

function healthRoute(_request: Request, context: RouteContext): Response {
  return jsonResponse({ status: "ok" }, { headers: context.responseHeaders });
}

function toErrorResponse(error: unknown, context: RouteContext): Response {
  if (error instanceof RequestError) {
    context.errorCode = error.code;
    // Why a token or key set failed (jose's code, a network error) is for the operator.
    if (error.cause !== undefined) {
      context.logger.info("Request refused", { error_code: error.code, error });
    }
    return errorResponse(error, context.responseHeaders);
  }
  // A bug, not a bad request: the detail goes to the log, never to the caller.
  context.logger.error("Unhandled error", { error });
  context.errorCode = "INTERNAL_ERROR";
  return errorResponse(
    new RequestError("INTERNAL_ERROR", "Internal error"),
    context.responseHeaders,
  );
}

function correlationIdOf(request: Request): string {
  const supplied = request.headers.get(CORRELATION_HEADER);
  return supplied !== null && ACCEPTABLE_CORRELATION_ID.test(supplied)
    ? supplied
    : crypto.randomUUID();
}
