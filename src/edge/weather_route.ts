/**
 * `POST /data-action/weather`: authenticate, read the body, validate it
 * against the contract, ask the weather action, all within the deadline.
 */

import type { Authenticator } from "../auth/mod.ts";
import { validateWeatherRequest, type WeatherRequest } from "../weather/contract.ts";
import { actionFailureJson, type WeatherAction } from "../weather/mod.ts";
import type { Logger } from "../process/log.ts";
import type { WeatherActionContext } from "../weather/action.ts";
import type { Deadline, DeadlineQueue, DeadlineTarget } from "../http/deadlines.ts";
import { RequestError } from "../http/errors.ts";
import { readJsonBody } from "../http/request_body.ts";
import { jsonTextResponse } from "../http/responses.ts";
import type { RouteContext, RouteHandler } from "../http/routes.ts";

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
  return (request, context) => new WeatherCall(request, context, deps).answer;
}

/**
 * One call of the route: its answer, where it has got to (so its deadline
 * knows which answer to give), and its deadline. One object holds it all, its
 * deadline target and the action's context included: a cached answer is
 * served tens of thousands of times a second, and every closure or promise
 * made for each is paid again in garbage collection.
 */
class WeatherCall implements DeadlineTarget, WeatherActionContext {
  readonly answer: Promise<Response>;
  #phase: "authenticating" | "reading" | "answering" = "authenticating";
  #settle!: (response: Response) => void;
  #fail!: (error: unknown) => void;
  #settled = false;
  readonly #deadline: Deadline;
  #lastChance: ReturnType<typeof setTimeout> | undefined;
  #deadlineReached = false;
  #deadlineSignal: AbortController | undefined;

  constructor(
    request: Request,
    private readonly context: RouteContext,
    private readonly deps: WeatherRouteDeps,
  ) {
    this.answer = new Promise<Response>((resolve, reject) => {
      this.#settle = resolve;
      this.#fail = reject;
    });
    this.#deadline = deps.deadlines.arm(this);
    this.#run(request);
  }

  /** The request's logger, for the action: made only if it logs. */
  get logger(): Logger {
    return this.context.logger;
  }

  /** For the action: aborts when the deadline is reached; made only for an answer waited for. */
  deadline(): AbortSignal {
    this.#deadlineSignal ??= new AbortController();
    if (this.#deadlineReached) this.#deadlineSignal.abort();
    return this.#deadlineSignal.signal;
  }

  expired(): void {
    if (this.#settled) return;
    this.context.logger.warn("Request deadline reached", {
      phase: this.#phase,
      deadline_ms: this.deps.deadlineMs,
    });
    switch (this.#phase) {
      case "authenticating":
        return this.#finish(
          new RequestError("AUTH_UNAVAILABLE", "Credentials could not be checked in time", {
            "retry-after": "5",
          }),
        );
      case "reading":
        return this.#finish(
          new RequestError("REQUEST_TIMEOUT", "Request body did not arrive in time"),
        );
      case "answering":
        // The action answers now, with a stale answer where it has one.
        this.#deadlineReached = true;
        this.#deadlineSignal?.abort();
        this.#lastChance = setTimeout(() => {
          this.context.errorCode = "UPSTREAM_TIMEOUT";
          this.#finish(answer(actionFailureJson("UPSTREAM_TIMEOUT"), this.context));
        }, ANSWER_AFTER_DEADLINE_MS);
    }
  }

  /** Settles the answer once, with a response or the error the handler turns into one. */
  #finish(outcome: Response | unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#deadline.cancel();
    if (this.#lastChance !== undefined) clearTimeout(this.#lastChance);
    if (outcome instanceof Response) this.#settle(outcome);
    else this.#fail(outcome);
  }

  async #run(request: Request): Promise<void> {
    const { context, deps } = this;
    try {
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
      this.#phase = "reading";
      const body = await readJsonBody(request);
      this.#phase = "answering";
      // request.signal is not passed on: the upstream call has its own timeout, and
      // reading it switches Deno.serve into a legacy mode that prints a warning.
      const { output, json, cache } = await deps.weatherAction(validRequest(body), this);
      context.cache = cache;
      if ("error_code" in output) context.errorCode = output.error_code;
      this.#finish(answer(json, context));
    } catch (error) {
      this.#finish(error);
    }
  }
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
