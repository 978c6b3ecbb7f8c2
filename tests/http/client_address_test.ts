import assert from "node:assert/strict";
import { createClientAddressResolver, parseAddressRange } from "../../src/http/client_address.ts";

const request = (headers: Record<string, string>) =>
  new Request("http://localhost/data-action/weather", { headers });

Deno.test("parseAddressRange() reads IPv4, IPv6 and CIDR ranges, and refuses anything else", () => {
  assert.deepEqual(parseAddressRange("10.0.0.0/8"), { family: 4, network: 10n << 24n, bits: 8 });
  assert.equal(parseAddressRange("192.0.2.7")?.bits, 32);
  assert.equal(parseAddressRange("2001:db8::/32")?.family, 6);
  assert.equal(parseAddressRange("::1")?.bits, 128);
  for (const bad of ["proxy.internal", "10.0.0.0/33", "1.2.3", "256.0.0.1", "::1/129", "1::2::3"]) {
    assert.equal(parseAddressRange(bad), undefined, bad);
  }
});

Deno.test("createClientAddressResolver() believes forwarding headers from trusted proxies only", async (t) => {
  const resolve = createClientAddressResolver(["10.0.0.0/8", "2001:db8::/32"]);
  await t.step("an untrusted peer is the client, whatever it claims", () => {
    assert.equal(
      resolve(request({ "x-forwarded-for": "203.0.113.9" }), "198.51.100.1"),
      "198.51.100.1",
    );
  });
  await t.step("a trusted peer: the rightmost untrusted X-Forwarded-For entry", () => {
    const forged = request({ "x-forwarded-for": "1.1.1.1, 203.0.113.9, 10.0.0.2" });
    assert.equal(resolve(forged, "10.0.0.1"), "203.0.113.9");
  });
  await t.step("IPv6 and IPv4-mapped peers", () => {
    assert.equal(
      resolve(request({ "x-forwarded-for": "2001:db8:1::5, 198.51.100.4" }), "2001:db8::1"),
      "198.51.100.4",
    );
    assert.equal(
      resolve(request({ "x-forwarded-for": "198.51.100.4" }), "::ffff:10.1.1.1"),
      "198.51.100.4",
    );
  });
  await t.step("Forwarded (RFC 7239) when there is no X-Forwarded-For", () => {
    const forwarded = request({ forwarded: 'for="[2001:db9::7]:4711";proto=https, for=10.0.0.3' });
    assert.equal(resolve(forwarded, "10.0.0.1"), "2001:db9::7");
  });
  await t.step("garbage in the chain ends the walk at the proxy", () => {
    assert.equal(resolve(request({ "x-forwarded-for": "unknown" }), "10.0.0.1"), "10.0.0.1");
  });
  await t.step("with no trusted proxies, headers are never read", () => {
    const none = createClientAddressResolver([]);
    assert.equal(none(request({ "x-forwarded-for": "203.0.113.9" }), "10.0.0.1"), "10.0.0.1");
  });
});
