/**
 * Who is calling, as an IP address: the TCP peer, or, when the peer is a
 * proxy the operator trusts (TRUSTED_PROXIES), the address that proxy
 * reports in `X-Forwarded-For` (else `Forwarded`). A header from any other
 * peer is ignored, since any client can write one.
 *
 * The proxies' list is walked from the right (the entry the nearest proxy
 * appended) past every trusted proxy; the first untrusted entry is the
 * client. Entries further left were written by someone not trusted.
 */

/** An address range: the first `bits` bits of `network`, in one of the two families. */
export interface AddressRange {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly bits: number;
}

interface ParsedAddress {
  family: 4 | 6;
  value: bigint;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): string[] | undefined => {
    if (half === "") return [];
    const groups = half.split(":");
    const last = groups[groups.length - 1]!;
    // An IPv4 tail (::ffff:192.0.2.1) stands for two groups.
    if (last.includes(".")) {
      const v4 = parseIPv4(last);
      if (v4 === undefined) return undefined;
      groups.splice(groups.length - 1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
    }
    return groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group)) ? groups : undefined;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

/** An IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4. */
function parseAddress(text: string): ParsedAddress | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIPv6(bare);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 - IPV4_MAPPED_PREFIX };
  return { family: 6, value: v6 };
}

/** `192.0.2.0/24`, `2001:db8::/32`, or a single address; undefined when it is none of these. */
export function parseAddressRange(text: string): AddressRange | undefined {
  const [addressText = "", bitsText, ...rest] = text.trim().split("/");
  const address = parseAddress(addressText);
  if (address === undefined || rest.length > 0) return undefined;
  const width = address.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= width)) return undefined;
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { family: address.family, network: address.value & mask, bits };
}

function inRange(address: ParsedAddress, range: AddressRange): boolean {
  if (address.family !== range.family) return false;
  const width = address.family === 4 ? 32 : 128;
  const shift = BigInt(width - range.bits);
  return address.value >> shift === range.network >> shift;
}

/** The `for=` addresses of a `Forwarded` header (RFC 7239), in order; ports dropped. */
function forwardedFor(header: string): string[] {
  const addresses: string[] = [];
  for (const element of header.split(",")) {
    for (const pair of element.split(";")) {
      const [name = "", value = ""] = pair.split(/=(.*)/s, 2);
      if (name.trim().toLowerCase() !== "for") continue;
      const unquoted = value.trim().replace(/^"(.*)"$/, "$1");
      // "[2001:db8::1]:4711" or "192.0.2.1:4711": keep the address only.
      const address = unquoted.startsWith("[")
        ? unquoted.slice(1, unquoted.indexOf("]"))
        : unquoted.replace(/:\d+$/, "");
      addresses.push(address);
    }
  }
  return addresses;
}

export type ClientAddressResolver = (request: Request, peer: string) => string;

/** `trustedProxyRanges` as TRUSTED_PROXIES lists them (already checked by the configuration). */
export function createClientAddressResolver(
  trustedProxyRanges: readonly string[],
): ClientAddressResolver {
  const trustedProxies = trustedProxyRanges.flatMap((text) => parseAddressRange(text) ?? []);
  const trusted = (text: string) => {
    const address = parseAddress(text);
    return address !== undefined && trustedProxies.some((range) => inRange(address, range));
  };
  return (request, peer) => {
    if (trustedProxies.length === 0 || !trusted(peer)) return peer;
    const xForwardedFor = request.headers.get("x-forwarded-for");
    const forwarded = request.headers.get("forwarded");
    const chain = xForwardedFor !== null
      ? xForwardedFor.split(",").map((entry) => entry.trim())
      : forwarded !== null
      ? forwardedFor(forwarded)
      : [];
    for (let i = chain.length - 1; i >= 0; i--) {
      const entry = chain[i]!;
      // Garbage ("unknown", an obfuscated id) ends the walk: nothing left of it is reliable.
      if (parseAddress(entry) === undefined) return peer;
      if (!trusted(entry)) return entry.replace(/^\[(.*)\]$/, "$1");
    }
    // Every hop is a trusted proxy (or there is no header): the nearest one is all we know.
    return chain[0]?.replace(/^\[(.*)\]$/, "$1") ?? peer;
  };
}
