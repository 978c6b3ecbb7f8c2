/** What every authentication mode provides to the routes it protects. */

export interface Principal {
  /** Who called: the token's `sub`, or the Basic user name. Safe to log. */
  readonly subject: string;
}

/** Where a request came from, worked out only when a mode needs it (a refusal, mostly). */
export interface Caller {
  readonly clientAddress: string;
}

export interface Authenticator {
  /** Resolves with the caller, or rejects with a RequestError (401/403/429/503). */
  authenticate(request: Request, caller: Caller): Promise<Principal>;
}

/** AUTH_MODE=none: everyone is let in, deliberately and loudly (see service.ts). */
export const openAccess: Authenticator = {
  authenticate: () => Promise.resolve({ subject: "anonymous" }),
};
