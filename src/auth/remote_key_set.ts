/**
 * An identity provider's key set (JWKS), fetched and cached so that verifying
 * a token rarely waits on the network and never fails because the key host
 * had a bad minute.
 *
 * jose's createRemoteJWKSet drops its keys once they are older than its cache
 * age and the refetch fails, which would turn a key-host outage into an
 * outage of this service. Here jose still selects and imports every key
 * (createLocalJWKSet); this module only decides when to fetch the document:
 *
 * - fresh (younger than maxAgeMs): used as is;
 * - stale but younger than maxAgeMs + staleMaxMs: used at once while one
 *   background refetch runs;
 * - older, or none yet: the request waits for a refetch, and fails with
 *   KeySetUnavailableError if there is still nothing usable;
 * - a token whose `kid` is unknown triggers a refetch, so rotation works
 *   without a restart.
 *
 * Every refetch, for whatever reason, is single-flight and at most one per
 * cooldownMs, so a flood of tokens with made-up `kid`s costs the key host one
 * request per cooldown. A failing key host is logged once when trouble starts
 * and once when it ends, not per request.
 *
 * The document is fetched with undici, not fetch: a key set URL may be signed
 * (`?sig=...`, as cloud storage does), and with OTEL_DENO=true Deno traces
 * every fetch with its full URL. This module records its own span, with the
 * URL's query values redacted (as openweather.ts does for the same reason).
 */

import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { Agent, request } from "undici";
import { readBoundedBytes } from "../http/bounded_body.ts";
import type { Logger } from "../process/log.ts";
import { redactUrl } from "../process/redact.ts";

const MAX_KEY_SET_BYTES = 512 * 1024;
export const DEFAULT_REFETCH_COOLDOWN_MS = 30_000;

export class KeySetUnavailableError extends Error {
  override name = "KeySetUnavailableError";
}

export interface RemoteKeySetOptions {
  url: URL;
  timeoutMs: number;
  maxAgeMs: number;
  staleMaxMs: number;
  cooldownMs?: number;
  now: () => number;
  logger: Logger;
}

export interface RemoteKeySet {
  /** For jose's jwtVerify. */
  getKey: JWTVerifyGetKey;
  /** Starts a fetch now (at start-up), without waiting for the first token. */
  prefetch(): Promise<void>;
  /** True while keys young enough to use are cached. */
  hasUsableKeys(): boolean;
  /** Closes pooled connections; for shutdown. */
  close(): Promise<void>;
}

interface CachedKeys {
  select: JWTVerifyGetKey;
  fetchedAt: number;
}

export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const cooldownMs = options.cooldownMs ?? DEFAULT_REFETCH_COOLDOWN_MS;
  const { now, logger } = options;
  const keyHost = options.url.origin + options.url.pathname;
  const fetchDocument = createKeySetFetcher(options);

  let cached: CachedKeys | undefined;
  let inFlight: Promise<void> | undefined;
  let lastAttemptAt = -Infinity;
  let failing = false;

  const ageOf = (keys: CachedKeys) => now() - keys.fetchedAt;
  const usable = (keys = cached): keys is CachedKeys =>
    keys !== undefined && ageOf(keys) <= options.maxAgeMs + options.staleMaxMs;
  const mayRefetch = () => inFlight !== undefined || now() - lastAttemptAt >= cooldownMs;

  /** One fetch at a time; resolves whether or not it worked (the cache tells). */
  const refetch = (): Promise<void> => {
    inFlight ??= (async () => {
      lastAttemptAt = now();
      try {
        const select = createLocalJWKSet(await fetchDocument.fetch());
        cached = { select, fetchedAt: now() };
        if (failing) logger.info("Key set reachable again", { url: keyHost });
        failing = false;
      } catch (error) {
        if (!failing) logRefetchFailure(options, keyHost, cached, error);
        failing = true;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  async function usableKeys(): Promise<CachedKeys> {
    if (usable() && ageOf(cached!) > options.maxAgeMs && mayRefetch()) {
      refetch(); // Serve the stale keys now; the refetch happens alongside.
    }
    if (!usable() && mayRefetch()) await refetch();
    if (!usable()) {
      throw new KeySetUnavailableError("No usable keys: the key set cannot be fetched");
    }
    return cached!;
  }

  return {
    async getKey(header, token) {
      const keys = await usableKeys();
      try {
        return await keys.select(header, token);
      } catch (error) {
        const unknownKey = (error as { code?: string }).code === "ERR_JWKS_NO_MATCHING_KEY";
        if (!unknownKey || !mayRefetch()) throw error;
        // Possibly a rotation: look once more, then let jose decide.
        await refetch();
        const refreshed = cached;
        if (!usable(refreshed) || refreshed === keys) throw error;
        return await refreshed.select(header, token);
      }
    },
    prefetch: () => refetch(),
    hasUsableKeys: () => usable(),
    close: () => fetchDocument.close(),
  };
}

const tracer = trace.getTracer("genesys-weather-action");

/** GETs of the key set document, bounded in time and size; each throws unless it holds keys. */
function createKeySetFetcher(options: RemoteKeySetOptions) {
  const agent = new Agent({ connect: { timeout: options.timeoutMs } });
  const { url } = options;
  const spanAttributes = {
    "http.request.method": "GET",
    "server.address": url.hostname,
    "server.port": Number(url.port) || (url.protocol === "https:" ? 443 : 80),
    "url.full": redactUrl(url),
    "url.path": url.pathname,
  };

  async function fetchKeySet(): Promise<JSONWebKeySet> {
    let response;
    try {
      response = await request(url, {
        method: "GET",
        dispatcher: agent,
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: { accept: "application/json" },
      });
    } catch (error) {
      // undici's messages name host and port, never the query; the cause is kept for the log.
      throw new KeySetUnavailableError("Key set could not be reached", { cause: error });
    }
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => {});
      throw new KeySetUnavailableError(`Key set answered with status ${response.statusCode}`);
    }
    const text = new TextDecoder().decode(await readBoundedBytes(response.body, MAX_KEY_SET_BYTES));
    const document: unknown = JSON.parse(text);
    const keys = (document as { keys?: unknown })?.keys;
    // An empty set is never a real rotation; keep the last good keys instead.
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new KeySetUnavailableError("Key set document has no keys");
    }
    return document as JSONWebKeySet;
  }

  return {
    fetch: (): Promise<JSONWebKeySet> =>
      tracer.startActiveSpan(
        "GET key set",
        { kind: SpanKind.CLIENT, attributes: spanAttributes },
        async (span) => {
          try {
            const document = await fetchKeySet();
            span.setAttribute("http.response.status_code", 200);
            return document;
          } catch (error) {
            span.setAttribute("error.type", (error as Error).name);
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw error;
          } finally {
            span.end();
          }
        },
      ),
    close: () => agent.close(),
  };
}

/** Logged once when trouble starts, not per request. */
function logRefetchFailure(
  options: RemoteKeySetOptions,
  keyHost: string,
  cached: CachedKeys | undefined,
  error: unknown,
): void {
  if (cached === undefined) {
    options.logger.warn(
      "Key set could not be fetched; bearer tokens cannot be verified until it can",
      { url: keyHost, error },
    );
    return;
  }
  const usableUntil = cached.fetchedAt + options.maxAgeMs + options.staleMaxMs;
  options.logger.warn(
    "Key set refetch failed; tokens signed by the last good keys keep working until they expire from the cache",
    { url: keyHost, error, usable_until: new Date(usableUntil).toISOString() },
  );
}
