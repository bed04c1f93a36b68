import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AuditTargetType } from '@reward/server-kit/audit-actions';
import { ipv6Groups } from '@reward/server-kit/ip-address';

/**
 * Cloud instance-metadata and credential addresses: refused whatever the configuration says, also when an
 * IPv6 address carries one of them (see `carriedIPv4`). All of IPv4 link-local is: that is where clouds put
 * them (169.254.169.254 for AWS, GCP, Azure, OpenStack and Oracle; 169.254.170.2 and .23 for AWS's task and pod
 * credentials; 169.254.0.23 for Tencent Cloud; others may add more), and no game receives webhooks there.
 */
const METADATA = new BlockList();
METADATA.addSubnet('169.254.0.0', 16, 'ipv4');
for (const address of [
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud
  '168.63.129.16', // Azure platform (WireServer)
]) {
  METADATA.addAddress(address, 'ipv4');
}
for (const address of ['fd00:ec2::254', 'fd00:ec2::23']) METADATA.addAddress(address, 'ipv6');

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
// (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo
// (2001::/32). IPv4-mapped addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry.
for (const [net, prefix] of [
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['2002::', 16],
  ['2001::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  // Site-local (RFC 3879 deprecated it, but some networks still route it internally).
  ['fec0::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

export type UrlProblem = { kind: 'invalid'; message: string } | { kind: 'refused'; message: string };

function ipv4Of(high: number, low: number): string {
  return [high >>> 8, high & 0xff, low >>> 8, low & 0xff].join('.');
}

/**
 * The IPv4 addresses an IPv6 address carries in the forms that reach them: IPv4-mapped, -compatible and
 * -translated, NAT64 (64:ff9b::/96; for the local-use 64:ff9b:1::/48 each RFC 6052 prefix length), 6to4,
 * Teredo (server and client), ISATAP interface ids, and link-local addresses (fe80::/10) read by their low
 * 32 bits. Metadata is refused in any of them, and a private IPv4 inside makes the address private.
 */
function carriedIPv4(address: string): string[] {
  const g = ipv6Groups(address);
  if (!g) return [];
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const low = ipv4Of(g6, g7);
  const byte = (index: number): number => ((g[index >> 1] as number) >> (index % 2 === 0 ? 8 : 0)) & 0xff;
  const bytes = (...indexes: number[]): string => indexes.map(byte).join('.');
  const carried: string[] = [];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && (g4 === 0 || g4 === 0xffff) && (g5 === 0 || g5 === 0xffff))
    carried.push(low);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) carried.push(low);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) carried.push(bytes(6, 7, 9, 10), bytes(7, 9, 10, 11), bytes(9, 10, 11, 12), low);
  if (g0 === 0x2002) carried.push(ipv4Of(g1, g2));
  if (g0 === 0x2001 && g1 === 0) carried.push(ipv4Of(g2, g3), ipv4Of(~g6 & 0xffff, ~g7 & 0xffff));
  if (g5 === 0x5efe && (g4 & 0xfcff) === 0) carried.push(low);
  if ((g0 & 0xffc0) === 0xfe80) carried.push(low);
  return carried;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/**
 * Why this address may not receive webhooks, or undefined when it may. The one rule for a URL's literal
 * address, for what its host resolves to when the endpoint is saved, and for what the sender's own lookup
 * resolves it to when sending.
 */
export function addressProblem(raw: string, allowPrivate: boolean): string | undefined {
  const address = raw.replace(/%.*$/, '');
  const family = familyOf(address);
  const carried = family === 'ipv6' ? carriedIPv4(address) : [];
  if (METADATA.check(address, family) || carried.some((ipv4) => METADATA.check(ipv4, 'ipv4')))
    return `${raw} is a cloud metadata address`;
  if (!allowPrivate && (PRIVATE.check(address, family) || carried.some((ipv4) => PRIVATE.check(ipv4, 'ipv4'))))
    return `${raw} is a loopback, private or link-local address`;
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
  // Port 0 parses but reaches no receiver: every delivery would fail for the whole retry schedule.
  if (url.port === '0') return { kind: 'invalid', message: 'url must name a port from 1 to 65535' };
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
  // The URL parser drops spaces around it and tabs and line breaks within it, so the endpoint would be stored
  // (and shown, and fingerprinted in the audit log) as something other than the address it is sent to.
  if ([...raw].some((char) => /\s/u.test(char) || char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) {
    return { kind: 'invalid', message: 'url must not contain spaces, tabs, line breaks or other control characters' };
  }
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

/** The audit log's targetType of an endpoint's entries. */
export const WEBHOOK_ENDPOINT_AUDIT_TARGET = AuditTargetType.WEBHOOK_ENDPOINT;

/**
 * A receiver's URL as the audit log shows it: its origin and a fingerprint of the whole URL. Receivers often
 * carry a credential in the path or the query (`?token=...`, `/services/T0/B0/XXXX`), and the audit log is read
 * by AUDITORs, who may not read the endpoints themselves (ADMIN only); a change of any part still shows as a
 * change, and an ADMIN can match the fingerprint to an endpoint's URL.
 */
export function auditedUrl(url: string): string {
  const fingerprint = createHash('sha256').update(url).digest('hex').slice(0, 12);
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    origin = '(not a URL)';
  }
  return `${origin}/... (sha256 ${fingerprint})`;
}

const AUDITED_URL = /\/\.\.\. \(sha256 [0-9a-f]{12}\)$/;

/**
 * An endpoint's audit changes with each URL in auditedUrl's form: as they are recorded, and as they are shown,
 * where a URL recorded whole (by the versions before auditedUrl; no migration rewrote them) takes that form
 * too, so that the token of an endpoint created back then is not read by AUDITORs either.
 */
export function withAuditedUrls(changes: Record<string, unknown>): Record<string, unknown> {
  const url = changes.url as { before?: unknown; after?: unknown } | undefined;
  if (typeof url !== 'object' || url === null) return changes;
  const shown = (value: unknown): unknown => (typeof value === 'string' && !AUDITED_URL.test(value) ? auditedUrl(value) : value);
  return { ...changes, url: { ...url, before: shown(url.before), after: shown(url.after) } };
}
