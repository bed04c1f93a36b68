import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Cloud instance-metadata addresses: refused whatever the configuration says. */
const METADATA = new BlockList();
METADATA.addAddress('169.254.169.254', 'ipv4');
METADATA.addAddress('fd00:ec2::254', 'ipv6');

/** Loopback, private, link-local, unspecified, shared and multicast ranges (IPv4 and IPv6). */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
// Besides the IPv6 ranges of their own, those that carry an IPv4 address (which may be a private one) are
// refused whole: IPv4-compatible (::a.b.c.d, deprecated, ::/96 also holds :: and ::1), IPv4-translated
// (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32). IPv4-mapped addresses
// (::ffff:a.b.c.d) are judged as the IPv4 address they carry (BlockList does so).
for (const [net, prefix] of [
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['2002::', 16],
  ['2001::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

export type UrlProblem = { kind: 'invalid'; message: string } | { kind: 'refused'; message: string };

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries. */
function normalize(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1] as string, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Why this address may not receive webhooks, or undefined when it may. */
export function addressProblem(raw: string, allowPrivate: boolean): string | undefined {
  const { address, family } = normalize(raw);
  if (METADATA.check(address, family)) return `${raw} is a cloud metadata address`;
  if (!allowPrivate && PRIVATE.check(address, family)) return `${raw} is a loopback, private or link-local address`;
  return undefined;
}

/** The URL's syntax: absolute http(s), no credentials, no fragment. */
export function parseWebhookUrl(raw: string): URL | UrlProblem {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { kind: 'invalid', message: 'url must be an absolute http(s) URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'invalid', message: `url must use http or https, not ${url.protocol.replace(':', '')}` };
  }
  if (url.username || url.password) return { kind: 'invalid', message: 'url must not carry credentials' };
  if (url.hash) return { kind: 'invalid', message: 'url must not have a fragment' };
  return url;
}

/** The host of a URL as `dns.lookup` and `net.isIP` want it (IPv6 literals lose their brackets). */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Every address the host resolves to must be allowed (a name that resolves to one private address among
 * public ones is refused). Checked when the endpoint is saved and again by the sender's own lookup.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<UrlProblem | undefined> {
  const url = parseWebhookUrl(raw);
  if (!(url instanceof URL)) return url;
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    } catch {
      return { kind: 'invalid', message: `the host ${host} does not resolve` };
    }
  }
  for (const address of addresses) {
    const problem = addressProblem(address, allowPrivate);
    if (problem) return { kind: 'refused', message: `url refused: ${problem}` };
  }
  return undefined;
}
