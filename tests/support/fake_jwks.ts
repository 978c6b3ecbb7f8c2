/**
 * A loopback identity provider key set (JWKS) host whose behaviour tests
 * change on the fly: serve keys, rotate them, fail, answer garbage, stall.
 */

import type { JWK } from "jose";
import { WAIT_MS, within } from "./wait.ts";

export type KeyHostMode = "serve" | "down" | "garbage" | "empty" | "stall";

export interface FakeKeyHost extends AsyncDisposable {
  readonly url: URL;
  /** How many times the key set was requested. */
  readonly requestCount: () => number;
  setKeys(keys: JWK[]): void;
  setMode(mode: KeyHostMode): void;
  close(): Promise<void>;
}

export function startFakeKeyHost(keys: JWK[]): FakeKeyHost {
  let current = keys;
  let mode: KeyHostMode = "serve";
  let count = 0;
  const stalled = new Set<() => void>();

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    count++;
    switch (mode) {
      case "serve":
        return Response.json({ keys: current });
      case "down":
        return new Response("Service Unavailable", { status: 503 });
      case "garbage":
        return new Response("<html>not a key set</html>", {
          headers: { "content-type": "application/json" },
        });
      case "empty":
        return Response.json({ keys: [] });
      case "stall": {
        const { promise, resolve } = Promise.withResolvers<void>();
        stalled.add(resolve);
        await promise;
        return Response.json({ keys: current });
      }
    }
  });

  const close = async () => {
    for (const release of stalled) release();
    await within(WAIT_MS, server.shutdown(), "the key host to stop");
  };
  return {
    url: new URL(`http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`),
    requestCount: () => count,
    setKeys(keys) {
      current = keys;
    },
    setMode(next) {
      mode = next;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
