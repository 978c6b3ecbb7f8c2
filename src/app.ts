/**
 * The HTTP edge: routes, the access log, correlation ids, and the one place
 * where errors become status codes. `createHandler` returns a plain
 * `(request) => Promise<Response>` for `Deno.serve`, `deno serve` and tests.
 */

import {
  describeInvalidRequest,
  WeatherRequestSchema,
  withoutBlankOptionalFields,
} from "./contract.ts";
import type { Metrics } from "./metrics.ts";
import { errorResponse, jsonResponse } from "./http.ts";
import { RequestError } from "./http_errors.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import type { Logger } from "./log.ts";
import { readJsonBody } from "./request_body.ts";
import type { RouteContext, Routes } from "./routes.ts";
import { actionFailure, type WeatherAction } from "./weather_action.ts";

export const WEATHER_PATH = "/data-action/weather";
export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";
export const METRICS_PATH = "/metrics";

/** Genesys sends this on every action call; echoing it lets an operator match both sides' logs. */
export const CORRELATION_HEADER = "inin-correlation-id";
const ACCEPTABLE_CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** Methods counted under their own name in metrics; any other token a client invents is "OTHER". */
const METHOD_LABELS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Sent by Genesys Cloud on every action call: the calling organisation. */
export const ORGANIZATION_HEADER = "inin-organization-id";

export interface AppDeps {
  weatherAction: WeatherAction;
  authenticator: Authenticator;
  /** When non-empty, only these organisations may call the weather action. */
  genesysOrgIds?: readonly string[];
  /** Routes of optional features, e.g. the built-in OAuth server. */
  extraRoutes?: Routes;
  /** Every weather request is answered within this, whatever the upstream does. */
  deadlineMs: number;
  /** Why the service cannot serve yet; empty when ready. */
  notReadyReasons: () => string[];
  metrics: Metrics;
  logger: Logger;
  /** Milliseconds on a monotonic clock, for request durations. */
  now?: () => number;
}

/** What Deno.serve passes as its second argument; absent when a test calls the handler directly. */
export interface ConnectionInfo {
  remoteAddr: Deno.Addr;
}

export type Handler = (request: Request, info?: ConnectionInfo) => Promise<Response>;

export function createHandler(deps: AppDeps): Handler {
  const now = deps.now ?? (() => performance.now());
  deps.metrics.requestDeadline(deps.deadlineMs / 1000);

  const readyRoute = () => {
    const reasons = deps.notReadyReasons();
    return reasons.length === 0
      ? jsonResponse({ status: "ready" })
      : errorResponse(new RequestError("NOT_READY", reasons.join("; ")));
  };
  const metricsRoute = async () =>
    new Response(await deps.metrics.registry.metrics(), {
      headers: { "content-type": deps.metrics.registry.contentType, "cache-control": "no-store" },
    });

  const routes = new Map(Object.entries<Routes[string]>({
    ...deps.extraRoutes,
    [WEATHER_PATH]: { POST: (request, context) => withDeadline(deps, request, context) },
    [HEALTH_PATH]: { GET: healthRoute, HEAD: healthRoute },
    [READY_PATH]: { GET: readyRoute, HEAD: readyRoute },
    [METRICS_PATH]: { GET: metricsRoute },
  }));

  return async (request, info) => {
    const started = now();
    const correlationId = correlationIdOf(request);
    const context: RouteContext = {
      logger: deps.logger.child({ correlation_id: correlationId }),
      clientAddress: info?.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : "local",
    };
    const path = new URL(request.url).pathname;

    let response: Response;
    const methods = routes.get(path);
    try {
      if (methods === undefined) throw new RequestError("NOT_FOUND", "No such endpoint");
      const route = methods[request.method];
      if (route === undefined) {
        const allow = Object.keys(methods).join(", ");
        throw new RequestError("METHOD_NOT_ALLOWED", `Method must be one of ${allow}`, {
          allow,
        });
      }
      response = await route(request, context);
    } catch (error) {
      response = toErrorResponse(error, context);
    }

    response.headers.set(CORRELATION_HEADER, correlationId);
    const elapsedMs = now() - started;
    // Unknown paths and methods share one label each, so scanners cannot blow up the metric's cardinality.
    deps.metrics.request(
      methods ? path : "unmatched",
      METHOD_LABELS.has(request.method) ? request.method : "OTHER",
      response.status,
      elapsedMs / 1000,
    );
    if (path === WEATHER_PATH && request.method === "POST") {
      deps.metrics.weatherAnswer(context.errorCode ?? "ok");
    }
    context.logger.info("request", {
      method: request.method,
      path,
      status: response.status,
      duration_ms: Math.round(elapsedMs * 100) / 100,
      ...(context.errorCode ? { error_code: context.errorCode } : {}),
      ...(context.cache ? { cache: context.cache } : {}),
      ...(context.subject ? { subject: context.subject } : {}),
    });
    return response;
  };
}

type WeatherPhase = "authenticating" | "reading" | "answering";

/**
 * Runs the weather route against REQUEST_DEADLINE_MS. Whatever is slow, the
 * caller gets an answer in time, and an honest one: a key set that cannot be
 * fetched is a 503, a body that does not arrive is a 408, and an upstream
 * that does not answer is the usual `UPSTREAM_TIMEOUT`. Work that loses the
 * race carries on in the background (an upstream answer still fills the
 * cache for the next caller).
 */
async function withDeadline(
  deps: AppDeps,
  request: Request,
  context: RouteContext,
): Promise<Response> {
  const progress = { phase: "authenticating" as WeatherPhase };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<Response>((resolve, reject) => {
    timer = setTimeout(() => {
      context.logger.warn("Request deadline reached", {
        phase: progress.phase,
        deadline_ms: deps.deadlineMs,
      });
      if (progress.phase === "authenticating") {
        reject(
          new RequestError("AUTH_UNAVAILABLE", "Credentials could not be checked in time", {
            "retry-after": "5",
          }),
        );
      } else if (progress.phase === "reading") {
        reject(new RequestError("REQUEST_TIMEOUT", "Request body did not arrive in time"));
      } else {
        context.errorCode = "UPSTREAM_TIMEOUT";
        resolve(jsonResponse(actionFailure("UPSTREAM_TIMEOUT")));
      }
    }, deps.deadlineMs);
  });
  try {
    return await Promise.race([weatherRoute(request, context, deps, progress), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function weatherRoute(
  request: Request,
  context: RouteContext,
  deps: AppDeps,
  progress: { phase: WeatherPhase },
): Promise<Response> {
  // Who is calling is settled before a byte of the body is read.
  const principal = await deps.authenticator.authenticate(request, context.clientAddress);
  context.subject = principal.subject;
  const allowedOrgs = deps.genesysOrgIds ?? [];
  if (allowedOrgs.length > 0) {
    const organization = request.headers.get(ORGANIZATION_HEADER)?.trim().toLowerCase();
    if (!organization || !allowedOrgs.some((id) => id.toLowerCase() === organization)) {
      throw new RequestError("FORBIDDEN", "Calling organization is not allowed");
    }
  }
  progress.phase = "reading";
  const body = await readJsonBody(request);
  progress.phase = "answering";
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new RequestError("INVALID_INPUT", "Request body must be a JSON object");
  }
  const parsed = WeatherRequestSchema.safeParse(
    withoutBlankOptionalFields(body as Record<string, unknown>),
  );
  if (!parsed.success) {
    throw new RequestError("INVALID_INPUT", describeInvalidRequest(parsed.error));
  }
  // request.signal is not passed on: the upstream call has its own timeout, and
  // reading it switches Deno.serve into a legacy mode that prints a warning.
  const { output, cache } = await deps.weatherAction(parsed.data, { logger: context.logger });
  context.cache = cache;
  if ("error_code" in output) context.errorCode = output.error_code;
  return jsonResponse(output);
}

function healthRoute(): Response {
  return jsonResponse({ status: "ok" });
}

function toErrorResponse(error: unknown, context: RouteContext): Response {
  if (error instanceof RequestError) {
    context.errorCode = error.code;
    // Why a token or key set failed (jose's code, a network error) is for the operator.
    if (error.cause !== undefined) {
      context.logger.info("Request refused", { error_code: error.code, error });
    }
    return errorResponse(error);
  }
  // A bug, not a bad request: the detail goes to the log, never to the caller.
  context.logger.error("Unhandled error", { error });
  context.errorCode = "INTERNAL_ERROR";
  return errorResponse(new RequestError("INTERNAL_ERROR", "Internal error"));
}

function correlationIdOf(request: Request): string {
  const supplied = request.headers.get(CORRELATION_HEADER);
  return supplied !== null && ACCEPTABLE_CORRELATION_ID.test(supplied)
    ? supplied
    : crypto.randomUUID();
}
