/**
 * Runs a Data Action the way Genesys Cloud's executor does, step by step:
 *
 *   0. the input is checked against the input contract (Genesys does not call
 *      when it fails);
 *   1. for User Defined (OAuth), the custom auth action gets a token, which
 *      later runs reuse (see TokenCache);
 *   2. the request: URL, headers and body from the action's Velocity
 *      templates, plus the headers Genesys adds;
 *   3. the response: a non-2xx answer, a body that is not JSON, a
 *      translation map that finds nothing, a success template that does not
 *      make JSON, or a result that breaks the output contract: each is the
 *      Failure path, as Architect sees it; else the Success path.
 *
 * It never throws for what the action or the service does: every outcome is
 * an Execution. It does not model what docs/genesys.md "What invoke leaves
 * out" lists.
 */

import ajvDraft04 from "ajv-draft-04";
import type { ActionConfig, ActionDefinition, CustomAuthDefinition } from "./action_definition.ts";
import { SERVICE_URL_PLACEHOLDER } from "./actions.ts";
import { applyTranslationMap } from "./translation_map.ts";
import { renderVelocity, TemplateError } from "./velocity.ts";
import { base64OfUtf8 } from "./velocity_tools.ts";

/** Genesys's limit when an action sets none (custom auth actions cannot). */
const GENESYS_DEFAULT_TIMEOUT_S = 60;

/** The credential types invoke models, as an integration's Configuration → Credentials has them. */
export type Credentials =
  | { type: "none" }
  | { type: "basic"; user: string; password: string }
  | {
    type: "oauth";
    /** The credential's fields (loginUrl, clientId, clientSecret), as `${credentials.*}`. */
    fields: Record<string, string>;
    customAuth: CustomAuthDefinition;
  };

export type ActionInput = Record<string, string | number | boolean>;

/** What Architect gets: the Success path with the output, or the Failure or Timeout path. */
export type Execution =
  | { path: "success"; output: Record<string, unknown>; notInContract: string[] }
  | { path: "failure"; message: string }
  | { path: "timeout"; message: string };

export interface ExecutorOptions {
  /** Replaces SERVICE_URL_PLACEHOLDER in a generated action's request URL. */
  serviceUrl?: string;
  credentials: Credentials;
  /** Sent as ININ-Organization-Id, which GENESYS_ORG_IDS checks. */
  organizationId: string;
  /** One line per step, for a person to read. */
  report?: (line: string) => void;
  now?: () => number;
}

export interface Executor {
  execute(definition: ActionDefinition, input: ActionInput): Promise<Execution>;
}

/** A step that ends the execution on the Failure (or Timeout) path. */
class StepFailure extends Error {
  constructor(message: string, readonly path: "failure" | "timeout" = "failure") {
    super(message);
  }
}

const Ajv = ajvDraft04 as unknown as typeof ajvDraft04.default;
const ajv = new Ajv({ allErrors: true, strict: false });

interface Answer {
  status: number;
  text: string;
  json: unknown;
}

/** An HTTP exchange within the action's timeout; unreachable and late answers are step failures. */
async function exchange(
  step: string,
  url: string,
  init: RequestInit,
  timeoutSeconds: number,
): Promise<Answer> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new StepFailure(`${step} failed: the request URL "${url}" is not a URL`);
  }
  try {
    const response = await fetch(target, {
      ...init,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  } catch (error) {
    if ((error as Error).name === "TimeoutError") {
      throw new StepFailure(`${step}: no answer within ${timeoutSeconds} s`, "timeout");
    }
    throw new StepFailure(
      `${step} failed: ${url} could not be reached (${(error as Error).message})`,
    );
  }
}

/**
 * A non-2xx answer as a step failure, with the body's own code and message
 * where it has them (`error`/`error_description` from a token endpoint,
 * `error_code`/`error_message` from the service), else a sample of it.
 */
function failedWith(step: string, answer: Answer, [codeField, messageField]: [string, string]) {
  const body = (answer.json ?? {}) as Record<string, unknown>;
  const [code, message] = [body[codeField], body[messageField]];
  const detail = typeof code === "string"
    ? `${code} ${typeof message === "string" ? message : ""}`
    : sample(answer.text);
  return new StepFailure(`${step} failed: HTTP ${answer.status} ${detail}`.trim());
}

const isSuccessStatus = (status: number) => status >= 200 && status <= 299;

/** A short, single-line sample of a body for a failure message. */
function sample(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/** The request a config's templates make, rendered against `context`. */
function renderRequest(
  step: string,
  request: ActionConfig["request"],
  context: Record<string, unknown>,
): { url: string; headers: Record<string, string>; body: string | undefined } {
  try {
    const headers = Object.fromEntries(
      Object.entries(request.headers).map((
        [name, value],
      ) => [name, renderVelocity(value, context)]),
    );
    const body = request.requestType === "GET" || request.requestType === "DELETE"
      ? undefined
      : renderVelocity(request.requestTemplate, context);
    return { url: renderVelocity(request.requestUrlTemplate, context), headers, body };
  } catch (error) {
    if (error instanceof TemplateError) throw new StepFailure(`${step} failed: ${error.message}`);
    throw error;
  }
}

/** The response configuration: translation map, then success template; JSON. */
function resolveResponse(
  step: string,
  response: ActionConfig["response"],
  answer: Answer,
  context: Record<string, unknown>,
): unknown {
  if (answer.json === undefined) {
    throw new StepFailure(
      `${step} failed: the answer (HTTP ${answer.status}) is not JSON: ${sample(answer.text)}`,
    );
  }
  const mapped = applyTranslationMap(
    answer.json,
    response.translationMap,
    response.translationMapDefaults,
  );
  if (!mapped.ok) throw new StepFailure(`${step} failed: ${mapped.message}`);
  let resolved: string;
  try {
    resolved = renderVelocity(response.successTemplate, {
      ...context,
      rawResult: answer.text,
      ...mapped.values,
    });
  } catch (error) {
    if (error instanceof TemplateError) throw new StepFailure(`${step} failed: ${error.message}`);
    throw error;
  }
  try {
    return JSON.parse(resolved);
  } catch {
    throw new StepFailure(
      `${step} failed: the success template did not make JSON: ${sample(resolved)}`,
    );
  }
}

/**
 * The custom auth token, reused until it expires or the service answers 401.
 * Assumed: Genesys documents neither how long it keeps the token nor when it
 * asks again; this takes the token response's `expires_in` where it has one,
 * and a 401 as the sign that a token is no longer good (then it asks once
 * more and repeats the request once).
 */
interface CachedToken {
  authResponse: unknown;
  expiresAtMs: number;
}

export function createExecutor(options: ExecutorOptions): Executor {
  const report = options.report ?? (() => {});
  const now = options.now ?? Date.now;
  let token: CachedToken | undefined;

  const genesysHeaders = () => ({
    "ININ-Organization-Id": options.organizationId,
    "ININ-Correlation-Id": crypto.randomUUID(),
  });

  async function customAuth(
    credentials: Extract<Credentials, { type: "oauth" }>,
  ): Promise<unknown> {
    if (token !== undefined && now() < token.expiresAtMs) {
      report("Step 1 (custom auth action): reused the token from an earlier run");
      return token.authResponse;
    }
    const step = "Step 1 (custom auth action)";
    const { request, response } = credentials.customAuth.config;
    const context = { credentials: credentials.fields };
    const rendered = renderRequest(step, request, context);
    const answer = await exchange(step, rendered.url, {
      method: request.requestType,
      headers: { ...rendered.headers, ...genesysHeaders() },
      ...(rendered.body === undefined ? {} : { body: rendered.body }),
    }, GENESYS_DEFAULT_TIMEOUT_S);
    if (!isSuccessStatus(answer.status)) {
      throw failedWith(step, answer, ["error", "error_description"]);
    }
    const authResponse = resolveResponse(step, response, answer, context);
    const expiresIn = (answer.json as { expires_in?: unknown }).expires_in;
    token = {
      authResponse,
      expiresAtMs: typeof expiresIn === "number" && expiresIn > 0
        ? now() + expiresIn * 1000
        : Number.POSITIVE_INFINITY,
    };
    const tokenText = (authResponse as { token?: unknown }).token;
    report(
      `${step}: got a token${
        typeof tokenText === "string" ? ` (${tokenText.length} characters)` : ""
      }`,
    );
    return authResponse;
  }

  /** Step 2, once: the request as Genesys sends it, and its answer. */
  async function send(definition: ActionDefinition, input: ActionInput): Promise<Answer> {
    const step = "Step 2 (action request)";
    const { credentials } = options;
    const context: Record<string, unknown> = {
      input: { ...input, rawRequest: JSON.stringify(input) },
    };
    const headers: Record<string, string> = {};
    if (credentials.type === "oauth") {
      context.authResponse = await customAuth(credentials);
    } else if (credentials.type === "basic") {
      // Genesys adds this header itself for the Basic Auth credential type: UTF-8 inside base64.
      headers.Authorization = `Basic ${
        base64OfUtf8(`${credentials.user}:${credentials.password}`)
      }`;
    }
    const { request } = definition.config;
    const rendered = renderRequest(step, request, context);
    const url = options.serviceUrl === undefined
      ? rendered.url
      : rendered.url.replace(SERVICE_URL_PLACEHOLDER, options.serviceUrl);
    report(`${step}: ${request.requestType} ${url}${rendered.body ? ` ${rendered.body}` : ""}`);
    const answer = await exchange(step, url, {
      method: request.requestType,
      headers: { ...headers, ...rendered.headers, ...genesysHeaders() },
      ...(rendered.body === undefined ? {} : { body: rendered.body }),
    }, definition.config.timeoutSeconds ?? GENESYS_DEFAULT_TIMEOUT_S);
    return answer;
  }

  async function execute(definition: ActionDefinition, input: ActionInput): Promise<Execution> {
    const { contract, config } = definition;
    const validateInput = ajv.compile(contract.input.inputSchema);
    if (!validateInput(input)) {
      return {
        path: "failure",
        message: `The input does not match the input contract: ${
          ajv.errorsText(validateInput.errors)
        }`,
      };
    }
    // Only a token an earlier run got can have gone bad since; a fresh one refused is refused.
    const reusesToken = token !== undefined && now() < token.expiresAtMs;
    try {
      let answer = await send(definition, input);
      if (answer.status === 401 && reusesToken) {
        report("Step 2 (action request): HTTP 401; the custom auth action runs again");
        token = undefined;
        answer = await send(definition, input);
      }
      const step = "Step 2 (action request)";
      if (!isSuccessStatus(answer.status)) {
        throw failedWith(step, answer, ["error_code", "error_message"]);
      }
      report(`${step}: HTTP ${answer.status}`);
      const output = resolveResponse("Step 3 (response)", config.response, answer, {
        input: { ...input },
      });
      const validateOutput = ajv.compile(contract.output.successSchema);
      if (!validateOutput(output)) {
        throw new StepFailure(
          `Step 3 (output contract) failed: ${ajv.errorsText(validateOutput.errors)}`,
        );
      }
      report("Step 3 (output contract): the answer matches the success schema");
      const fields = Object.keys(
        (contract.output.successSchema.properties ?? {}) as Record<string, unknown>,
      );
      return {
        path: "success",
        output: output as Record<string, unknown>,
        notInContract: Object.keys(output as object).filter((field) => !fields.includes(field)),
      };
    } catch (error) {
      if (!(error instanceof StepFailure)) {
        // Anything else is a fault of this program, not of the action; still a Failure path.
        return { path: "failure", message: `invoke failed: ${(error as Error).message}` };
      }
      return { path: error.path, message: error.message };
    }
  }

  return { execute };
}
