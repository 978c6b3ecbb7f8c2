/**
 * The floor for `deno task bench`: a bare Deno.serve handler that returns the
 * same JSON as a successful weather answer, with no routing, auth or cache.
 */

import { LONDON_ANSWER } from "./london_answer.ts";

const body = JSON.stringify(LONDON_ANSWER);

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  () => new Response(body, { headers: { "content-type": "application/json; charset=utf-8" } }),
);
