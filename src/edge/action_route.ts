/**
 * `POST /data-action/weather` and `POST /data-action/forecast`: authenticate,
 * read the body, validate it against the contract, ask the action, all
 * within the deadline.
 * A well-formed request is always answered `200`, with `error_code` when its
 * values cannot be used: a voice flow cannot read a failed action's answer.
 */

import type { Authenticator } from "../auth/mod.ts";
import { type ActionName, validateWeatherRequest } from "../weather/contract.ts";
import { type Action, isFailure } from "../weather/mod.ts";
import { RequestError } from "../http/errors.ts";
import { readJsonBody } from "../http/request_body.ts";
import { jsonResponse, jsonTextResponse } from "../http/responses.ts";
import type { RouteContext, RouteHandler } from "../http/routes.ts";
import { DeadlineReached, type RequestDeadlines } from "../process/timeout.ts";

/** Sent by Genesys Cloud on every action call: the calling organisation. */
export const ORGANIZATION_HEADER = "inin-organization-id";

export interface ActionRouteDeps {
  authenticator: Authenticator;
  /** When non-empty, only these organisations may call the actions. */
  genesysOrgIds?: readonly string[];
  /** REQUEST_DEADLINE_MS: every action request is answered within it, whatever the upstream does. */
  deadlines: RequestDeadlines;
}

type Phase = "authenticating" | "reading" | "answering";

/**
 * Runs an action's route against REQUEST_DEADLINE_MS. Whatever is slow, the
 * caller gets an answer in time, and an honest one: a key set that cannot be
 * fetched is a 503, a body that does not arrive is a 408, and an upstream
 * that does not answer is a stale answer where one is still servable, else
 * the usual `UPSTREAM_TIMEOUT`. Work that loses the race carries on in the
 * background (an upstream answer still fills the cache for the next caller).
 */
export function createActionRoute(
  name: ActionName,
  action: Action<object>,
  deps: ActionRouteDeps,
): RouteHandler {
  const allowedOrgs = (deps.genesysOrgIds ?? []).map((id) => id.toLowerCase());

  async function answer(
    request: Request,
    context: RouteContext,
    deadline: Promise<never>,
  ): Promise<Response> {
    let phase: Phase = "authenticating";
    // Also what handles the promise's rejection when no step is waiting on it any more.
    deadline.catch(() => {
      context.logger.warn("Request deadline reached", { phase, deadline_ms: deps.deadlines.ms });
    });
    /** `work`, or the error `late()` makes as soon as the deadline is reached. */
    const beforeDeadline = async <T>(work: Promise<T>, late: () => RequestError): Promise<T> => {
      try {
        return await Promise.race([work, deadline]);
      } catch (error) {
        throw error instanceof DeadlineReached ? late() : error;
      }
    };

    // Who is calling is settled before a byte of the body is read.
    const principal = await beforeDeadline(
      deps.authenticator.authenticate(request, context),
      () =>
        new RequestError("AUTH_UNAVAILABLE", "Credentials could not be checked in time", {
          "retry-after": "5",
        }),
    );
    context.subject = principal.subject;
    if (allowedOrgs.length > 0) {
      const organization = request.headers.get(ORGANIZATION_HEADER)?.trim().toLowerCase();
      if (!organization || !allowedOrgs.includes(organization)) {
        throw new RequestError("FORBIDDEN", "Calling organization is not allowed");
      }
    }

    phase = "reading";
    const body = await beforeDeadline(
      readJsonBody(request, context),
      () => new RequestError("REQUEST_TIMEOUT", "Request body did not arrive in time"),
    );

    phase = "answering";
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new RequestError("INVALID_BODY", "Request body must be a JSON object");
    }
    // Values that cannot be used are an answer a voice flow can see, not a 400.
    const checked = validateWeatherRequest(body as Record<string, unknown>);
    if (!checked.ok) {
      context.errorCode = "INVALID_INPUT";
      return jsonResponse(
        { error_code: "INVALID_INPUT", error_message: checked.message },
        { headers: context.responseHeaders },
      );
    }
    // At the deadline the action answers at once, with a stale answer where it
    // has one, else UPSTREAM_TIMEOUT. request.signal is not passed on: the
    // upstream call has its own timeout, and reading it switches Deno.serve
    // into a legacy mode that prints a warning.
    const { output, json, cache } = await action(checked.request, {
      logger: context.logger,
      deadline,
    });
    context.cache = cache;
    if (isFailure(output)) context.errorCode = output.error_code;
    return jsonTextResponse(json, 200, context.responseHeaders);
  }

  return (request, context) => {
    context.action = name;
    return deps.deadlines.run((deadline) => answer(request, context, deadline));
  };
}
