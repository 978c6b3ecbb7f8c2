/** The shape every route handler shares, so feature modules can add routes to the app. */

import type { Logger } from "../process/log.ts";
import type { BodyReadHolder } from "./request_body.ts";
import type { ResponseHeaders } from "./responses.ts";

/**
 * What a route knows of its request besides the Request, and leaves for the
 * edge: the access log's fields, and the body read it started (`bodyRead`),
 * which keeps the request's slot while it outlives the answer.
 */
export interface RouteContext extends BodyReadHolder {
  /** Headers every answer to this request carries: its correlation id. */
  readonly responseHeaders: ResponseHeaders;
  /** The request's logger, carrying its correlation id. */
  readonly logger: Logger;
  /**
   * The client's IP address (TRUSTED_PROXIES), for throttling failed
   * authentication; worked out on first read, since reading the peer's
   * address costs Deno a call into the runtime.
   */
  readonly clientAddress: string;
  /** Set by an action's route: which action answered, for its metrics and the access log. */
  action?: "weather" | "forecast";
  /** Set by a route whose answer reports a failure, for the access log. */
  errorCode?: string;
  /** Who the caller authenticated as, for the access log. */
  subject?: string;
  /** Whether the weather came from the cache (weather's CacheResult), for the access log. */
  cache?: string;
}

export type RouteHandler = (
  request: Request,
  context: RouteContext,
) => Promise<Response> | Response;

/** Path → method → handler. */
export type Routes = Record<string, Partial<Record<string, RouteHandler>>>;
