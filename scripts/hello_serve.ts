/**
 * The cold-start floor for `deno task bench`: the smallest `deno serve`
 * entry, answering 200 to anything. serve.ts is measured against it.
 */

export default { fetch: () => new Response("ok") } satisfies Deno.ServeDefaultExport;
