import assert from "node:assert/strict";
import fc from "fast-check";
import { pathOf } from "../../src/http/request_path.ts";

Deno.test("pathOf() gives what new URL().pathname gives, for any request target", () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9_\-.%\\/?#;:@ ~]{0,12}$/);
  const host = fc.constantFrom("127.0.0.1:8080", "x", "[::1]:1", "weather.example.com");
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 5 }), host, (segments, host) => {
      const url = `http://${host}/${segments.join("/")}`;
      const parsed = URL.parse(url);
      if (parsed !== null) assert.equal(pathOf(url), parsed.pathname, url);
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("pathOf() takes a plain target as it is, and resolves the rest", () => {
  assert.equal(pathOf("http://127.0.0.1:8080/data-action/weather"), "/data-action/weather");
  assert.equal(pathOf("http://x/a/../metrics"), "/metrics");
  assert.equal(pathOf("http://x/healthz?x=/metrics"), "/healthz");
  assert.equal(pathOf("http://x/%7Euser"), "/%7Euser");
  assert.equal(pathOf("http://x/a\\b"), "/a/b");
});

Deno.test("pathOf() gives no path when the authority is not a host name", () => {
  for (
    const url of [
      "http://a?b/metrics",
      "http://a#/metrics",
      "http://a\\@b/metrics",
      "http://user@a/metrics",
      "http://a%2f/metrics",
      "http://[zz]/metrics",
      "no-authority",
    ]
  ) {
    assert.equal(pathOf(url), undefined, url);
  }
  assert.equal(pathOf("http://a:8080"), "/");
  assert.equal(pathOf("ftp://a/metrics"), "/metrics");
});
