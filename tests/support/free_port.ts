/**
 * A loopback port that was free a moment ago, for an engine (Redis,
 * Prometheus, a benchmarked server) that cannot be asked to pick one itself.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
