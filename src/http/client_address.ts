/**
 * Who is calling, as an IP address: the TCP peer, or, when the peer is a
 * proxy the operator trusts (TRUSTED_PROXIES), the address that proxy
 * reports in the one header the operator names (TRUSTED_PROXY_HEADER:
 * `X-Forwarded-For` or `Forwarded`). The other header is never read: a proxy
 * that writes one passes the other on as the client sent it, so reading it
 * would let the client name itself. A header from any other peer is ignored,
 * since any client can write one.
 *
 * The proxies' list is walked from the right (the entry the nearest proxy
 * appended) past every trusted proxy; the first untrusted entry is the
 * client. Entries further left were written by someone not trusted.
 *
 * Addresses and ranges are parsed by ipaddr.js (what Express's proxy-addr
 * uses), and every address is answered in one canonical spelling
 * (`::ffff:192.0.2.1` and `192.0.2.1` alike as `192.0.2.1`, IPv6 as RFC
 * 5952 writes it, without a zone id), so the failed-login throttle counts one
 * client once, and an answer is never longer than an address.
 */

import ipaddr from "ipaddr.js";

/** An address range: the first `bits` bits of `network`, in one of the two families. */
export interface AddressRange {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly bits: number;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = readonly [network: Address, bits: number];

/**
 * IPv4 in four decimal parts without leading zeros only: ipaddr.js also reads
 * `10.1`, `0x0a.0.0.1`, `010.0.0.1` and `167772161`, which programs disagree
 * on (is `010` eight or ten?), so such a spelling is no address here.
 */
function fourPartDecimal(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

/**
 * An IPv4 or IPv6 address, optionally in brackets, IPv4-mapped IPv6
 * (`::ffff:192.0.2.1`) read as the IPv4 address it carries; undefined when
 * it is neither. An IPv6 zone id (`fe80::1%eth0`, `%25` in a URI) is dropped:
 * it names an interface of the host that wrote it, not another client, and
 * kept, it would give one address as many spellings as a client cares to send.
 */
function parseAddress(text: string): Address | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/s, "$1");
  if (fourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  const unzoned = bare.replace(/%.+$/s, "");
  if (unzoned === bare && bare.includes("%")) return undefined; // "fe80::1%": an empty zone
  if (!ipaddr.IPv6.isValid(unzoned)) return undefined;
  // An IPv4 tail (::ffff:192.0.2.1) is held to the same four decimal parts.
  const tail = unzoned.slice(unzoned.lastIndexOf(":") + 1);
  if (tail.includes(".") && !fourPartDecimal(tail)) return undefined;
  return ipaddr.process(unzoned);
}

/**
 * `192.0.2.0/24`, `2001:db8::/32` or a single address. An IPv4-mapped range
 * (`::ffff:10.0.0.0/104`) is the IPv4 range it maps (`10.0.0.0/8`); one
 * shorter than the mapped prefix (/96) mixes the families and is refused.
 */
function parseRange(text: string): Range | undefined {
  const trimmed = text.trim();
  const slash = trimmed.lastIndexOf("/");
  const address = parseAddress(slash < 0 ? trimmed : trimmed.slice(0, slash));
  if (address === undefined) return undefined;
  if (slash < 0) return [address, address.kind() === "ipv4" ? 32 : 128];
  if (!ipaddr.isValidCIDR(trimmed)) return undefined;
  const [network, bits] = ipaddr.parseCIDR(trimmed);
  if (network instanceof ipaddr.IPv6 && network.isIPv4MappedAddress()) {
    return bits >= 96 ? [network.toIPv4Address(), bits - 96] : undefined;
  }
  return [network, bits];
}

/**
 * The addresses one client is taken to hold: an IPv6 address's /64
 * (`2001:db8:1:2::/64`), an IPv4 address itself; anything that is no address
 * ("local") as it is. A /64 is one link, whose hosts pick their own interface
 * ids (SLAAC; RFC 8981 privacy addresses, a new one whenever they like), and
 * the least a site is given (RFC 6177): one machine can send from 2^64
 * addresses, but seldom from more than one /64.
 */
export function addressBlock(address: string): string {
  const parsed = parseAddress(address);
  if (!(parsed instanceof ipaddr.IPv6)) return parsed?.toString() ?? address;
  return `${new ipaddr.IPv6([...parsed.parts.slice(0, 4), 0, 0, 0, 0]).toString()}/64`;
}

/** `192.0.2.0/24`, `2001:db8::/32`, or a single address; undefined when it is none of these. */
export function parseAddressRange(text: string): AddressRange | undefined {
  const range = parseRange(text);
  if (range === undefined) return undefined;
  const [network, bits] = range;
  const bytes = network.toByteArray();
  const width = bytes.length * 8;
  const value = bytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { family: network.kind() === "ipv4" ? 4 : 6, network: value & mask, bits };
}

/**
 * How much of a forwarding header is read, from its right end: the nearest
 * proxies append there, and a hop is at most 50 characters or so, so this
 * holds any real chain. What a client wrote further left costs nothing,
 * however long (50 KB fits in a request), and the walk below is bounded too.
 */
const MAX_FORWARDING_HEADER_READ = 1024;

/**
 * The right end of a header, at most MAX_FORWARDING_HEADER_READ characters,
 * starting after a comma so that no entry is read cut short ("" when the
 * tail is a single overlong entry, which is then no address).
 */
function rightEnd(header: string): string {
  if (header.length <= MAX_FORWARDING_HEADER_READ) return header;
  const tail = header.slice(-MAX_FORWARDING_HEADER_READ);
  const comma = tail.indexOf(",");
  return comma < 0 ? "" : tail.slice(comma + 1);
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

/** The headers a proxy may name the client in, as TRUSTED_PROXY_HEADER spells them. */
export const PROXY_HEADERS = ["x-forwarded-for", "forwarded"] as const;
export type ProxyHeader = typeof PROXY_HEADERS[number];

export type ClientAddressResolver = (request: Request, peer: string) => string;

/**
 * `trustedProxyRanges` as TRUSTED_PROXIES lists them (already checked by the
 * configuration); `proxyHeader`, the one header those proxies write.
 */
export function createClientAddressResolver(
  trustedProxyRanges: readonly string[],
  proxyHeader: ProxyHeader,
): ClientAddressResolver {
  const trustedProxies = trustedProxyRanges.map(parseRange).filter((range) => range !== undefined);
  const trusted = (address: Address) =>
    trustedProxies.some(([network, bits]) =>
      network.kind() === address.kind() && address.match(network, bits)
    );
  return (request, peer) => {
    const peerAddress = parseAddress(peer);
    // "local" (a Unix socket) or anything else that is no address stays as it is.
    const client = peerAddress?.toString() ?? peer;
    if (peerAddress === undefined || trustedProxies.length === 0 || !trusted(peerAddress)) {
      return client;
    }
    const header = request.headers.get(proxyHeader);
    const read = header === null ? undefined : rightEnd(header);
    const chain = read === undefined
      ? []
      : proxyHeader === "forwarded"
      ? forwardedFor(read)
      : read.split(",");
    const addresses: Address[] = [];
    for (let i = chain.length - 1; i >= 0; i--) {
      const address = parseAddress(chain[i]!);
      // Garbage ("unknown", an obfuscated id) ends the walk: nothing left of it is reliable.
      if (address === undefined) return client;
      if (!trusted(address)) return address.toString();
      addresses.push(address);
    }
    // Every hop is a trusted proxy (or there is no header): the furthest one is all we know.
    return addresses.at(-1)?.toString() ?? client;
  };
}
