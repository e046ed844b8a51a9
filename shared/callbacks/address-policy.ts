// Where a callback may go. Our servers POST to an address a client chose, so by default only
// public unicast addresses are reachable: nothing on the machine, the private network or the
// cloud's metadata service (the classic SSRF target that hands out credentials). The operator
// may open named hosts or ranges; nothing opens a metadata address.
//
// Pure functions: the URL is checked when the blob is created (no DNS in the request path), and
// every address is checked again when the callback connects (see send-callback.ts).
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export type RefusalReason =
  | 'invalid-url'
  | 'invalid-address'
  | 'scheme'
  | 'credentials'
  | 'metadata'
  | 'loopback'
  | 'private'
  | 'carrier-grade-nat'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'tunnel';

export interface Refusal {
  reason: RefusalReason;
  /** Reads after "callback_url ", e.g. "points at a loopback address (127.0.0.1)". */
  detail: string;
  /** The address refused, when an address was the cause. */
  address?: string;
}

/** The operator's exceptions (`CallbackAllowedHosts`): host names and address ranges. */
export interface CallbackAllowList {
  hosts: ReadonlySet<string>;
  ranges: readonly (readonly [Address, number])[];
}

export const emptyAllowList: CallbackAllowList = { hosts: new Set(), ranges: [] };

const metadataHostnames = new Set([
  'metadata', // GCP's short name
  'metadata.google.internal',
  'metadata.goog',
  'instance-data', // AWS
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);
const metadataAddresses = new Set(
  [
    '169.254.169.254', // AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
    '169.254.170.2', // ECS task credentials
    '169.254.170.23', // EKS pod identity
    '100.100.100.200', // Alibaba Cloud
    'fd00:ec2::254', // AWS over IPv6
    'fd00:ec2::23', // EKS pod identity over IPv6
  ].map((text) => ipaddr.parse(text).toNormalizedString()),
);

/** Lower case without trailing dots: `METADATA.GOOGLE.INTERNAL.` is metadata.google.internal. */
export function normalizeHostname(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '').toLowerCase();
}

/**
 * Parses `CallbackAllowedHosts`: comma-separated host names, addresses and CIDR ranges, e.g.
 * `hooks.internal.example.com, 10.20.0.0/16, ::1`. Throws on an entry that is none of these.
 */
export function parseAllowList(text: string): CallbackAllowList {
  const hosts = new Set<string>();
  const ranges: (readonly [Address, number])[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [ip, prefix, ...extra] = entry.split('/');
    const kind = isIP(ip!);
    if (kind) {
      const bits = kind === 4 ? 32 : 128;
      const length = prefix === undefined ? bits : Number(prefix);
      if (extra.length > 0 || !/^\d+$/.test(prefix ?? String(bits)) || length > bits) {
        throw new Error(`"${entry}" is not an address range (prefix length 0 to ${bits})`);
      }
      ranges.push([ipaddr.parse(ip!), length]);
    } else if (/^(?=.{1,253}\.?$)[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(entry)) {
      hosts.add(normalizeHostname(entry));
    } else {
      throw new Error(`"${entry}" is neither a host name nor an address range`);
    }
  }
  return { hosts, ranges };
}

const v4Ranges: Record<string, [RefusalReason, string]> = {
  unspecified: ['unspecified', 'an unspecified address'],
  broadcast: ['broadcast', 'the broadcast address'],
  multicast: ['multicast', 'a multicast address'],
  linkLocal: ['link-local', 'a link-local address'],
  loopback: ['loopback', 'a loopback address'],
  carrierGradeNat: ['carrier-grade-nat', 'a carrier-grade NAT address'],
  private: ['private', 'a private address'],
};
const v6Ranges: Record<string, [RefusalReason, string]> = {
  unspecified: ['unspecified', 'an unspecified address'],
  linkLocal: ['link-local', 'a link-local address'],
  multicast: ['multicast', 'a multicast address'],
  loopback: ['loopback', 'a loopback address'],
  uniqueLocal: ['unique-local', 'a unique-local address'],
  deprecatedSiteLocal: ['private', 'a site-local address'],
  // Teredo hides the client's IPv4 address (inverted) inside; nobody serves webhooks there.
  teredo: ['tunnel', 'a Teredo tunnel address'],
};

/** The IPv4 address inside an IPv6 one that carries it, where connecting may end up at it. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  const parts = address.parts;
  const zeros = (from: number, to: number) => parts.slice(from, to).every((part) => part === 0);
  const lastFour = new ipaddr.IPv4(bytes.slice(12, 16));
  // NAT64's well-known prefix 64:ff9b::/96 (RFC 6052)
  if (parts[0] === 0x64 && parts[1] === 0xff9b && zeros(2, 6)) return lastFour;
  // 6to4: 2002:AABB:CCDD::/48 (RFC 3056)
  if (parts[0] === 0x2002) return new ipaddr.IPv4(bytes.slice(2, 6));
  // IPv4-compatible ::a.b.c.d (deprecated by RFC 4291), but :: and ::1 themselves
  if (zeros(0, 6) && !zeros(6, 7)) return lastFour;
  if (zeros(0, 6) && parts[7]! > 1) return lastFour;
  // IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d (RFC 6145)
  if (zeros(0, 5) && parts[5] === 0xffff) return lastFour;
  if (zeros(0, 4) && parts[4] === 0xffff && parts[5] === 0) return lastFour;
  return undefined;
}

const globalUnicast = ipaddr.parseCIDR('2000::/3');

/** Why the default policy refuses this address (ignoring the allow-list), or null. */
function defaultRefusal(address: Address): { reason: RefusalReason; what: string } | null {
  const text = address.toString();
  if (metadataAddresses.has(address.toNormalizedString())) return { reason: 'metadata', what: `a cloud metadata service (${text})` };
  const range = address.range();
  if (address.kind() === 'ipv4') {
    if (range === 'unicast') return null;
    const [reason, what] = v4Ranges[range] ?? ['reserved', 'a reserved address'];
    return { reason, what: `${what} (${text})` };
  }
  const v6 = address as ipaddr.IPv6;
  const inner = embeddedIPv4(v6);
  if (inner) {
    const innerRefusal = defaultRefusal(inner);
    if (innerRefusal) return { reason: innerRefusal.reason, what: `${innerRefusal.what.replace(/\)$/, '')}, inside ${text})` };
  }
  if (range in v6Ranges) {
    const [reason, what] = v6Ranges[range]!;
    return { reason, what: `${what} (${text})` };
  }
  // NAT64 and 6to4 reach the public IPv4 address inside: allowed as that address is.
  if (inner && (range === 'rfc6052' || range === '6to4')) return null;
  if (range === 'unicast' && v6.match(globalUnicast)) return null;
  const what = range === 'rfc6052' ? 'a local-use NAT64 address' : inner ? 'an IPv4-compatible address' : 'a reserved address';
  return { reason: 'reserved', what: `${what} (${text})` };
}

function allowListed(address: Address, allow: CallbackAllowList): boolean {
  return allow.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

/**
 * Why a callback may not connect to `ip` (an address in its plain form, as a resolver or the
 * URL gives it), or null when it may. `hostAllowed`: the URL named a host on the allow-list.
 */
export function addressRefusal(ip: string, allow: CallbackAllowList, hostAllowed = false): (Refusal & { address: string }) | null {
  const plain = ip.replace(/^\[|\]$/g, '');
  if (!isIP(plain)) return { reason: 'invalid-address', detail: `an address that is not one (${plain})`, address: plain };
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d to a dual-stack socket: judge it as such.
  const address = ipaddr.process(plain);
  const refusal = defaultRefusal(address);
  if (!refusal) return null;
  if (refusal.reason !== 'metadata' && (hostAllowed || allowListed(address, allow))) return null;
  return { reason: refusal.reason, detail: refusal.what, address: address.toString() };
}

/**
 * Why a callback URL is refused, or null when it may be used so far: checks what is known
 * without DNS (scheme, credentials, a literal address, a metadata host name). A host name is
 * checked again, address by address, when the callback connects.
 */
export function callbackUrlRefusal(callbackUrl: string, allow: CallbackAllowList): Refusal | null {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    return { reason: 'invalid-url', detail: 'is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: 'scheme', detail: 'must use http or https' };
  if (url.username || url.password) return { reason: 'credentials', detail: 'must not carry credentials' };
  // WHATWG URL parsing has already turned 0xA9FEA9FE, 2852039166, 0251.0376.0251.0376, 169.254.43518
  // and %31%36%39... into 169.254.169.254, and lower-cased the host name.
  const host = normalizeHostname(url.hostname);
  if (isIP(host)) {
    const refusal = addressRefusal(host, allow);
    return refusal && { ...refusal, detail: `points at ${refusal.detail}` };
  }
  if (metadataHostnames.has(host)) return { reason: 'metadata', detail: `points at a cloud metadata service (${host})` };
  return null;
}

/** Whether the operator opened this host name (its addresses are then not checked, but for metadata). */
export function hostAllowListed(hostname: string, allow: CallbackAllowList): boolean {
  return allow.hosts.has(normalizeHostname(hostname));
}
