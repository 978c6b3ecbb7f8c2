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
 * A key set URL may be signed (`?sig=...`, as cloud storage does), so it is
 * fetched through process/outbound_http.ts, which keeps it out of Deno's
 * tracing, inside a span whose URL has its query values redacted.
 */

import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { readBoundedBytes } from "../process/bounded_body.ts";
import type { Logger } from "../process/log.ts";
import { createOutboundHttp, inClientSpan, requestAttributes } from "../process/outbound_http.ts";
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
  /** Deno may trace outbound calls (OTEL_DENO, Deno Deploy). */
  outboundTraced: boolean;
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

/** GETs of the key set document, bounded in time and size; each throws unless it holds keys. */
function createKeySetFetcher(options: RemoteKeySetOptions) {
  const { url } = options;
  const http = createOutboundHttp({
    traced: options.outboundTraced,
    connectTimeoutMs: options.timeoutMs,
  });
  const span = {
    traced: options.outboundTraced,
    name: "GET key set",
    attributes: { ...requestAttributes(url), "url.full": redactUrl(url) },
    describeFailure: (error: unknown) => ({ type: (error as Error).name }),
  };

  async function fetchKeySet(): Promise<JSONWebKeySet> {
    let answer;
    try {
      answer = await http.get(url, AbortSignal.timeout(options.timeoutMs));
    } catch (error) {
      // The cause may quote the URL; the logger redacts its query values.
      throw new KeySetUnavailableError("Key set could not be reached", { cause: error });
    }
    if (answer.status !== 200) {
      await answer.discard().catch(() => {});
      throw new KeySetUnavailableError(`Key set answered with status ${answer.status}`);
    }
    const text = new TextDecoder().decode(await readBoundedBytes(answer.body, MAX_KEY_SET_BYTES));
    const document: unknown = JSON.parse(text);
    const keys = (document as { keys?: unknown })?.keys;
    // An empty set is never a real rotation; keep the last good keys instead.
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new KeySetUnavailableError("Key set document has no keys");
    }
    return document as JSONWebKeySet;
  }

  return {
    fetch: () => inClientSpan(span, fetchKeySet),
    close: () => http.close(),
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
