import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addressBlock,
  createClientAddressResolver,
  parseAddressRange,
} from "../../src/http/client_address.ts";

const XFF = "x-forwarded-for";
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
  const resolve = createClientAddressResolver(["10.0.0.0/8", "2001:db8::/32"], XFF);
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
  await t.step(
    "Forwarded (RFC 7239) when the proxies write that: X-Forwarded-For is ignored",
    () => {
      const viaForwarded = createClientAddressResolver(
        ["10.0.0.0/8", "2001:db8::/32"],
        "forwarded",
      );
      const forwarded = request({
        forwarded: 'for="[2001:db9::7]:4711";proto=https, for=10.0.0.3',
        "x-forwarded-for": "203.0.113.9",
      });
      assert.equal(viaForwarded(forwarded, "10.0.0.1"), "2001:db9::7");
      assert.equal(
        viaForwarded(request({ "x-forwarded-for": "203.0.113.9" }), "10.0.0.1"),
        "10.0.0.1",
      );
      // And the other way round: X-Forwarded-For's proxies, a Forwarded the client sent.
      assert.equal(resolve(forwarded, "10.0.0.1"), "203.0.113.9");
      assert.equal(resolve(request({ forwarded: "for=203.0.113.9" }), "10.0.0.1"), "10.0.0.1");
    },
  );
  await t.step("a zone id is dropped: one address, one answer", () => {
    for (const zoned of ["fe80::7%eth0", "[FE80::0007%25]", "fe80:0::7%lo-1.x", "fe80::7%"]) {
      const answer = resolve(request({ "x-forwarded-for": zoned }), "10.0.0.1");
      assert.equal(answer, zoned.endsWith("%") ? "10.0.0.1" : "fe80::7", zoned);
    }
    assert.equal(
      resolve(request({ "x-forwarded-for": "::ffff:203.0.113.9%1" }), "10.0.0.1"),
      "203.0.113.9",
    );
    assert.equal(resolve(request({ "x-forwarded-for": "203.0.113.9%1" }), "10.0.0.1"), "10.0.0.1");
    assert.equal(resolve(request({}), "fe80::1%eth0"), "fe80::1");
  });
  await t.step("only the right end of a long header is read", () => {
    const long = "x".repeat(50_000);
    assert.equal(
      resolve(request({ "x-forwarded-for": `${long}, 203.0.113.9` }), "10.0.0.1"),
      "203.0.113.9",
    );
    // One overlong entry at the right end is no address: the proxy is all we know.
    assert.equal(
      resolve(request({ "x-forwarded-for": `fe80::1%${long}` }), "10.0.0.1"),
      "10.0.0.1",
    );
    // Past the part read, every hop was trusted: the furthest one read answers, a proxy.
    const hops = `203.0.113.9${", 10.0.0.2".repeat(200)}, 10.0.0.3`;
    assert.equal(resolve(request({ "x-forwarded-for": hops }), "10.0.0.1"), "10.0.0.2");
  });
  await t.step("garbage in the chain ends the walk at the proxy", () => {
    assert.equal(resolve(request({ "x-forwarded-for": "unknown" }), "10.0.0.1"), "10.0.0.1");
  });
  await t.step("with no trusted proxies, headers are never read", () => {
    const none = createClientAddressResolver([], XFF);
    assert.equal(none(request({ "x-forwarded-for": "203.0.113.9" }), "10.0.0.1"), "10.0.0.1");
  });
});

Deno.test("parseAddressRange() refuses IPv4 spellings that programs read differently", () => {
  // ipaddr.js alone reads all of these (as inet_aton does); "010" is 8 to some and 10 to others.
  const odd = ["10.1", "10.0.1", "167772161", "0x0a.0.0.1", "010.0.0.1", "10.0.0.01", "1e1.0.0.1"];
  for (const text of odd) {
    assert.equal(parseAddressRange(text), undefined, text);
    assert.equal(parseAddressRange(`${text}/32`), undefined, `${text}/32`);
    assert.equal(parseAddressRange(`::ffff:${text}`), undefined, `::ffff:${text}`);
  }
  for (const bad of ["10.0.0.0/08x", "10.0.0.0/", "/8", "10.0.0.0/8/8", "[10.0.0.0/8]", ""]) {
    assert.equal(parseAddressRange(bad), undefined, bad);
  }
});

Deno.test("parseAddressRange() reads ranges as their network, IPv4-mapped ones as IPv4", () => {
  const tenSlashEight = { family: 4, network: 10n << 24n, bits: 8 };
  assert.deepEqual(parseAddressRange(" 10.9.8.7/8 "), tenSlashEight);
  assert.deepEqual(parseAddressRange("::ffff:10.0.0.0/104"), tenSlashEight);
  assert.deepEqual(parseAddressRange("::FFFF:a00:0/104"), tenSlashEight);
  assert.deepEqual(parseAddressRange("::ffff:10.1.1.1"), {
    family: 4,
    network: (10n << 24n) | 0x010101n,
    bits: 32,
  });
  // Shorter than the mapped prefix, the range would be half IPv6, half IPv4.
  assert.equal(parseAddressRange("::ffff:10.0.0.0/64"), undefined);
  assert.deepEqual(
    parseAddressRange("2001:DB8:0:0:0:0:0:0/32"),
    parseAddressRange("2001:db8::/32"),
  );
  assert.deepEqual(parseAddressRange("0.0.0.0/0"), { family: 4, network: 0n, bits: 0 });
  assert.equal(parseAddressRange("fe80::1%eth0")?.family, 6);
});

// The properties below run against ranges with both families in them.
const PROXIES = ["10.0.0.0/8", "2001:db8::/32"];
const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet);
const group = fc.integer({ min: 0, max: 0xffff });
const dotted = (o: number[]) => o.join(".");
const hex = (n: number) => n.toString(16);
/** A trusted proxy (10.0.0.0/8) and a client (outside 10.0.0.0/8), as four octets. */
const trustedV4 = fc.tuple(fc.constant(10), octet, octet, octet);
const clientV4 = ipv4.filter(([first]) => first !== 10);
/** Spellings of one IPv4 address that all mean it, as a proxy may write them. */
const ipv4Spelling = (o: number[]) =>
  fc.constantFrom(
    dotted(o),
    `::ffff:${dotted(o)}`,
    `::FFFF:${dotted(o)}`,
    `0:0:0:0:0:ffff:${dotted(o)}`,
    `::ffff:${hex(o[0]! * 256 + o[1]!)}:${hex(o[2]! * 256 + o[3]!)}`,
    `[::ffff:${dotted(o)}]`,
    ` ${dotted(o)} `,
  );

Deno.test("createClientAddressResolver() answers every spelling of an IPv4 address as a.b.c.d", () => {
  const resolve = createClientAddressResolver(PROXIES, XFF);
  const none = createClientAddressResolver([], XFF);
  fc.assert(
    fc.property(
      clientV4.chain((o) => fc.tuple(fc.constant(o), ipv4Spelling(o))),
      trustedV4.chain((o) => ipv4Spelling(o)),
      ([client, spelling], proxy) => {
        assert.equal(resolve(request({ "x-forwarded-for": spelling }), "10.0.0.1"), dotted(client));
        // A trusted proxy is trusted however the socket spells it.
        assert.equal(resolve(request({ "x-forwarded-for": spelling }), proxy), dotted(client));
        assert.equal(none(request({}), spelling.trim().replace(/^\[|\]$/g, "")), dotted(client));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("createClientAddressResolver() answers every spelling of an IPv6 address the same way", () => {
  const resolve = createClientAddressResolver(PROXIES, XFF);
  assert.equal(
    resolve(request({ "x-forwarded-for": "2001:DB9:0000:0:0:0:0:0001" }), "10.0.0.1"),
    "2001:db9::1",
  );
  fc.assert(
    fc.property(
      fc.array(group, { minLength: 8, maxLength: 8 }).filter((g) => g[0] !== 0),
      (groups) => {
        const spellings = [
          groups.map(hex).join(":"),
          groups.map((g) => hex(g).toUpperCase().padStart(4, "0")).join(":"),
          `[${groups.map(hex).join(":")}]`,
        ];
        const answers = spellings.map((spelling) =>
          resolve(request({ "x-forwarded-for": spelling }), "10.0.0.1")
        );
        const canonical = answers[0]!;
        assert.deepEqual(answers, spellings.map(() => canonical));
        // Canonical: lower case, no leading zeros, and its own spelling.
        assert.equal(canonical, canonical.toLowerCase());
        assert.doesNotMatch(canonical, /(^|:)0[0-9a-f]/);
        assert.equal(resolve(request({ "x-forwarded-for": canonical }), "10.0.0.1"), canonical);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("createClientAddressResolver() answers the rightmost untrusted hop, however hops are spelled", () => {
  const resolve = createClientAddressResolver(PROXIES, XFF);
  const hop = fc.oneof(
    trustedV4.chain((o) => ipv4Spelling(o).map((text) => ({ text, trusted: true, is: dotted(o) }))),
    clientV4.chain((o) => ipv4Spelling(o).map((text) => ({ text, trusted: false, is: dotted(o) }))),
    // Groups above zero: no "::" to place, so the canonical spelling is plain.
    fc.array(fc.integer({ min: 1, max: 0xffff }), { minLength: 6, maxLength: 6 }).map((g) => ({
      text: `2001:DB8:${g.map((n) => hex(n).padStart(4, "0")).join(":")}`,
      trusted: true,
      is: `2001:db8:${g.map(hex).join(":")}`,
    })),
  );
  fc.assert(
    fc.property(fc.array(hop, { minLength: 1, maxLength: 6 }), (hops) => {
      const header = hops.map((h) => h.text).join(",");
      // Every hop trusted: the furthest one is the closest to the client we know.
      const expected = (hops.findLast((h) => !h.trusted) ?? hops[0]!).is;
      assert.equal(resolve(request({ "x-forwarded-for": header }), "10.0.0.1"), expected);
      // An odd spelling to the right of the client ends the walk at the proxy.
      const odd = resolve(request({ "x-forwarded-for": `${header}, 010.0.0.1` }), "10.0.0.1");
      assert.equal(odd, "10.0.0.1");
    }),
    { numRuns: 300 },
  );
});

Deno.test("addressBlock() is an IPv6 address's /64, an IPv4 address itself", () => {
  assert.equal(addressBlock("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assert.equal(addressBlock("2001:db8:1:2::"), "2001:db8:1:2::/64");
  assert.equal(addressBlock("2001:DB8:0:0:ffff::1"), "2001:db8::/64");
  assert.equal(addressBlock("fe80::1%eth0"), "fe80::/64");
  assert.equal(addressBlock("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "ffff:ffff:ffff:ffff::/64");
  assert.equal(addressBlock("203.0.113.9"), "203.0.113.9");
  assert.equal(addressBlock("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(addressBlock("local"), "local");
  fc.assert(
    // A first group above zero: never IPv4-mapped.
    fc.property(
      fc.array(group, { minLength: 8, maxLength: 8 }).filter((g) => g[0] !== 0),
      (groups) => {
        const block = addressBlock(groups.map(hex).join(":"));
        assert.match(block, /^[0-9a-f:]+\/64$/);
        assert.ok(block.length <= 24, block);
        // Every address of the /64 is in the same block, and only those.
        const sibling = [...groups.slice(0, 4), 1, 2, 3, 4].map(hex).join(":");
        assert.equal(addressBlock(sibling), block);
        const neighbour = [...groups.slice(0, 3), (groups[3]! + 1) % 0x10000, ...groups.slice(4)];
        assert.notEqual(addressBlock(neighbour.map(hex).join(":")), block);
      },
    ),
    { numRuns: 300 },
  );
});
