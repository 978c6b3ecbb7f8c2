/**
 * `POST /data-action/weather`: authenticate, read the body, validate it
 * against the contract, ask the weather action, all within the deadline.
 */

import type { Authenticator } from "../auth/mod.ts";
import { validateWeatherRequest, type WeatherRequest } from "../weather/contract.ts";
import { actionFailureJson, type WeatherAction } from "../weather/mod.ts";
import type { DeadlineQueue } from "./deadlines.ts";
import { RequestError } from "./errors.ts";
import { readJsonBody } from "./request_body.ts";
import { jsonTextResponse } from "./responses.ts";
import type { RouteContext, RouteHandler } from "./routes.ts";

/** Sent by Genesys Cloud on every action call: the calling organisation. */
export const ORGANIZATION_HEADER = "inin-organization-id";

export interface WeatherRouteDeps {
  weatherAction: WeatherAction;
  authenticator: Authenticator;
  /** When non-empty, only these organisations may call the weather action. */
  genesysOrgIds?: readonly string[];
  /** Every weather request is answered within this, whatever the upstream does. */
  deadlineMs: number;
  /** Deadlines of `deadlineMs`, shared by every request; whoever made it closes it. */
  deadlines: DeadlineQueue;
}

type WeatherPhase = "authenticating" | "reading" | "answering";

/** Where a request is, so its deadline knows which answer to give. */
class Progress {
  phase: WeatherPhase = "authenticating";
  #reached = false;
  #controller: AbortController | undefined;

  /** The deadline came while answering: the action is to answer with what it has. */
  reach(): void {
    this.#reached = true;
    this.#controller?.abort();
  }

  /** Aborts when the deadline is reached; made only for an answer that is waited for. */
  readonly signal = (): AbortSignal => {
    this.#controller ??= new AbortController();
    if (this.#reached) this.#controller.abort();
    return this.#controller.signal;
  };
}

/**
 * Once the deadline has told the action to answer with what it has, how long
 * it may take to do so (it answers from memory, so this is a safety net).
 */
const ANSWER_AFTER_DEADLINE_MS = 100;

/**
 * Runs the weather route against REQUEST_DEADLINE_MS. Whatever is slow, the
 * caller gets an answer in time, and an honest one: a key set that cannot be
 * fetched is a 503, a body that does not arrive is a 408, and an upstream
 * that does not answer is a stale answer where one is still servable, else
 * the usual `UPSTREAM_TIMEOUT`. Work that loses the race carries on in the
 * background (an upstream answer still fills the cache for the next caller).
 */
export function createWeatherRoute(deps: WeatherRouteDeps): RouteHandler {
  const { deadlines } = deps;
  return (request, context) =>
    new Promise<Response>((resolve, reject) => {
      const progress = new Progress();
      let lastChance: ReturnType<typeof setTimeout> | undefined;
      const deadline = deadlines.arm(() => {
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
          // The action answers now, with a stale answer where it has one.
          progress.reach();
          lastChance = setTimeout(() => {
            context.errorCode = "UPSTREAM_TIMEOUT";
            resolve(answer(actionFailureJson("UPSTREAM_TIMEOUT"), context));
          }, ANSWER_AFTER_DEADLINE_MS);
        }
      });
      const settle = () => {
        deadline.cancel();
        if (lastChance !== undefined) clearTimeout(lastChance);
      };
      weatherRoute(request, context, deps, progress).then(
        (response) => {
          settle();
          resolve(response);
        },
        (error) => {
          settle();
          reject(error);
        },
      );
    });
}

/**
 * The request the body asks for, or INVALID_INPUT. The check is written by
 * hand, so zod (about 8 MB of memory) is not loaded to serve requests; a
 * property test holds it to the contract's schema on every input.
 */
function validRequest(body: unknown): WeatherRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new RequestError("INVALID_INPUT", "Request body must be a JSON object");
  }
  const checked = validateWeatherRequest(body as Record<string, unknown>);
  if (!checked.ok) throw new RequestError("INVALID_INPUT", checked.message);
  return checked.request;
}

function answer(json: string, context: RouteContext): Response {
  return jsonTextResponse(json, 200, context.responseHeaders);
}

async function weatherRoute(
  request: Request,
  context: RouteContext,
  deps: WeatherRouteDeps,
  progress: Progress,
): Promise<Response> {
  // Who is calling is settled before a byte of the body is read.
  const principal = await deps.authenticator.authenticate(request, context);
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
  // request.signal is not passed on: the upstream call has its own timeout, and
  // reading it switches Deno.serve into a legacy mode that prints a warning.
  const { output, json, cache } = await deps.weatherAction(validRequest(body), {
    logger: context.logger,
    deadline: progress.signal,
  });
  context.cache = cache;
  if ("error_code" in output) context.errorCode = output.error_code;
  return answer(json, context);
}
