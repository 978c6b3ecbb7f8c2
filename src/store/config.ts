/**
 * The shared store's settings: where it is (Redis/Valkey or Deno KV), the key
 * namespace, how long a store call may hold a caller, and how the budget is
 * shared out while the store is unreachable.
 *
 * `SHARED_STORE_URL` may carry credentials: then the whole URL and its
 * password are secrets (masked in the configuration log line, redacted from
 * every log line) and what the log shows instead is `location`: the same URL
 * with the password replaced. A URL without credentials is only an address,
 * and is logged as it is.
 */

import {
  MIN_SECRET_LENGTH,
  type VariableReader,
  type VariableSpecs,
} from "../process/variables.ts";
import { REDACTED } from "../process/redact.ts";

export const STORE_VARIABLES = {
  SHARED_STORE_URL: {
    documentedDefault: "(unset: in memory, one process)",
    meaning:
      "A store every instance shares for the weather cache, the OpenWeatherMap budget and back-off: `redis://[user:password@]host:port[/db]` or `rediss://` (Redis, Valkey, Upstash, ElastiCache, Memorystore), `kv:` (Deno KV: Deno Deploy's own, or the local default), `kv:/path/file.sqlite3`, or `https://` (a self-hosted `denokv`, with `DENO_KV_ACCESS_TOKEN`). Credentials in it are never logged",
  },
  SHARED_STORE_PREFIX: {
    default: "genesys-weather:",
    meaning:
      "Prefix of every key the service writes, so several deployments can share one Redis; instances with the same prefix share one cache and one budget",
  },
  SHARED_STORE_TIMEOUT_MS: {
    default: "150",
    meaning:
      "The longest a store call may hold a request, `10`–`5000` ms; past it the store counts as failing for that call (a cache miss, the local budget). A cache miss makes two in turn, so start-up warns when this is more than a quarter of `REQUEST_DEADLINE_MS`",
  },
  SHARED_STORE_INSTANCES: {
    default: "2",
    meaning:
      "How many instances share the store. While it is unreachable each instance allows itself `OPENWEATHER_MAX_CALLS_PER_MINUTE` ÷ this (at least 1) calls in any 60 s, so together they stay near the limit",
  },
  DENO_KV_ACCESS_TOKEN: {
    documentedDefault: "(unset)",
    meaning:
      "The access token of a self-hosted `denokv` at an `https://` `SHARED_STORE_URL`; read by Deno itself. Never logged",
    secret: true,
  },
} as const satisfies VariableSpecs;

/** Where the shared store is; `connection` is secret, `location` is safe to log. */
export type SharedStoreTarget =
  | { readonly kind: "redis"; readonly connection: string; readonly location: string }
  | {
    readonly kind: "kv";
    /** Deno.openKv's argument: a file path, a denokv URL, or undefined for the default. */
    readonly connection: string | undefined;
    readonly location: string;
  };

export interface SharedStoreConfig {
  /** Undefined: no store, every instance on its own (the default). */
  readonly target: SharedStoreTarget | undefined;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly instances: number;
}

export function readStoreConfig(
  vars: VariableReader<keyof typeof STORE_VARIABLES>,
): { readonly sharedStore: SharedStoreConfig } {
  const raw = vars.optionalText("SHARED_STORE_URL");
  // Secret only when it carries credentials; else it is an address, logged as it is.
  if (raw !== undefined && hasCredentials(raw)) vars.addSecret(raw);
  const accessToken = vars.optionalText("DENO_KV_ACCESS_TOKEN");
  const target = raw === undefined ? undefined : parseSharedStoreUrl(raw);
  if (typeof target === "string") vars.problem(target);
  else if (target !== undefined) {
    // The password may turn up in a client's error message; the redactor knows it too.
    const password = passwordOf(raw!);
    if (password !== undefined && password.length >= MIN_SECRET_LENGTH) vars.addSecret(password);
    if (target.kind === "kv" && target.connection?.startsWith("https:") && !accessToken) {
      vars.problem("DENO_KV_ACCESS_TOKEN is required with an https:// SHARED_STORE_URL (denokv)");
    }
  }
  return {
    sharedStore: {
      target: typeof target === "string" ? undefined : target,
      prefix: vars.text("SHARED_STORE_PREFIX"),
      timeoutMs: vars.integer("SHARED_STORE_TIMEOUT_MS", { min: 10, max: 5_000 }),
      instances: vars.integer("SHARED_STORE_INSTANCES", { min: 1, max: 1_000 }),
    },
  };
}

const EXPECTED =
  "SHARED_STORE_URL must be a redis://, rediss://, kv: or https:// (denokv) URL with a host";

/**
 * The store a SHARED_STORE_URL names, or the problem with it. A problem never
 * quotes the value: it may hold a password.
 */
export function parseSharedStoreUrl(raw: string): SharedStoreTarget | string {
  const url = URL.parse(raw);
  if (url === null) return EXPECTED;
  switch (url.protocol) {
    case "redis:":
    case "rediss:": {
      if (url.hostname === "") return EXPECTED;
      const db = url.pathname.replace(/^\//, "");
      if (db !== "" && !/^\d+$/.test(db)) {
        return "SHARED_STORE_URL's path must be a database number (redis://host:6379/0)";
      }
      if (url.search !== "" || url.hash !== "") {
        return "SHARED_STORE_URL must not have a query or fragment";
      }
      return { kind: "redis", connection: raw, location: withoutPassword(url) };
    }
    case "kv:": {
      let path: string;
      try {
        path = decodeURIComponent(raw.slice("kv:".length));
      } catch {
        return "SHARED_STORE_URL's kv: path has a % that is not percent-encoding (write %25)";
      }
      return path === ""
        ? { kind: "kv", connection: undefined, location: "kv: (Deno.openKv())" }
        : { kind: "kv", connection: path, location: `kv:${path}` };
    }
    case "https:":
      if (url.username || url.password) {
        return "SHARED_STORE_URL (denokv) must not contain credentials: set DENO_KV_ACCESS_TOKEN";
      }
      return { kind: "kv", connection: url.href, location: url.href };
    default:
      return EXPECTED;
  }
}

function hasCredentials(raw: string): boolean {
  const url = URL.parse(raw);
  return url === null || url.username !== "" || url.password !== "";
}

function passwordOf(raw: string): string | undefined {
  const password = URL.parse(raw)?.password;
  if (!password) return undefined;
  try {
    return decodeURIComponent(password);
  } catch {
    return password;
  }
}

/** `redis://user:secret@host:6379/0` → `redis://user:[REDACTED]@host:6379/0`. */
function withoutPassword(url: URL): string {
  const shown = new URL(url.href);
  shown.password = "";
  shown.username = "";
  const user = url.username ? `${url.username}${url.password ? `:${REDACTED}` : ""}@` : "";
  const password = !url.username && url.password ? `:${REDACTED}@` : "";
  return `${shown.protocol}//${user}${password}${shown.host}${shown.pathname}`;
}
