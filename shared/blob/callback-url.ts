// A callback URL is fetched by our servers, so it must not point at the cloud's metadata
// service (the classic SSRF target that hands out credentials).
import ipaddr from 'ipaddr.js';

const metadataHostnames = new Set(['metadata.google.internal', 'metadata.goog', 'instance-data']);
const awsMetadataIpv6 = ipaddr.parse('fd00:ec2::254');

/** Why a callback URL is refused, or null when it may be used. */
export function unsafeCallbackReason(callbackUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username || url.password) return 'must not carry credentials';
  // WHATWG URL parsing already turned 0xA9FEA9FE, 2852039166 and friends into dotted form.
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (metadataHostnames.has(host)) return 'points at a cloud metadata service';
  if (!ipaddr.isValid(host)) return null;
  const address = ipaddr.process(host);
  if (address.range() === 'linkLocal') return 'points at a link-local address';
  if (address.kind() === 'ipv6' && address.toNormalizedString() === awsMetadataIpv6.toNormalizedString()) {
    return 'points at a cloud metadata service';
  }
  if (address.range() === 'unspecified') return 'points at an unspecified address';
  return null;
}
