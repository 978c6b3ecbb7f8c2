/**
 * The fair floor for `deno task bench`: a minimal Deno.serve handler doing the
 * work no implementation of this endpoint can skip: parse the URL, read two
 * request headers, read and JSON.parse the body, look the city up in a Map,
 * JSON.stringify the answer, and answer with the service's four headers.
 */

import { LONDON_ANSWER } from "./london_answer.ts";

const answers = new Map<string, unknown>([["London", LONDON_ANSWER]]);

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  async (request) => {
    const { pathname } = new URL(request.url);
    const authorization = request.headers.get("authorization");
    const correlationId = request.headers.get("inin-correlation-id") ?? crypto.randomUUID();
    const body = await request.json();
    const answer = pathname === "/data-action/weather" && authorization !== null
      ? answers.get(body.city_name)
      : undefined;
    return new Response(JSON.stringify(answer ?? { error_code: "NOT_FOUND" }), {
      headers: {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "inin-correlation-id": correlationId,
      },
    });
  },
);
