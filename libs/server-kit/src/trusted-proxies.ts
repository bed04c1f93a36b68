import { BlockList, isIP } from 'node:net';
import { type HostLookup, systemLookup } from './host-lookup.js';

/** What Fastify's `trustProxy` takes: addresses/CIDRs, nobody, or a judgement per address. */
export type TrustProxySetting = string[] | false | ((address: string, hop: number) => boolean);

/** How often trusted proxies named by host name are resolved again. */
export const TRUSTED_PROXY_RESOLVE_INTERVAL_MS = 5_000;
/** A request from an address not trusted has the names resolved again at most this often. */
const RESOLVE_ON_MISS_MIN_MS = 1_000;

/** An IPv4/IPv6 address or CIDR block, as Fastify's trustProxy accepts them. */
export function isAddressOrCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

/** proxy-addr's names for address ranges (Fastify's trustProxy takes them), as the blocks they stand for. */
export const PROXY_ADDR_KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** An address, a CIDR block or one of proxy-addr's names for ranges: what Fastify's trustProxy list takes. */
export function isProxyAddressEntry(value: string): boolean {
  return Object.hasOwn(PROXY_ADDR_KEYWORDS, value) || isAddressOrCidr(value);
}

/** A DNS host name (letters, digits and hyphens in dot-separated labels), as a Compose service is named. */
export function isHostName(value: string): boolean {
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  return value.length <= 253 && new RegExp(`^${label}(?:\\.${label})*$`, 'i').test(value) && !/^[\d.]+$/.test(value);
}

export interface TrustedProxiesOptions {
  lookup?: HostLookup;
  intervalMs?: number;
  now?: () => number;
  /** Told when a name's resolution fails (once until it resolves again) and when the addresses change. */
  onResolved?: (name: string, addresses: readonly string[], error?: Error) => void;
}

function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/**
 * The proxies whose `X-Forwarded-For` a server believes: addresses, CIDR blocks and host names. A name
 * (the gateway's Compose service name, say) stands for every address it resolves to, resolved when the
 * server starts and every TRUSTED_PROXY_RESOLVE_INTERVAL_MS after, and again (at most once a second) when
 * a request comes from an address not trusted: a proxy whose container was replaced (a new address) is
 * believed again within about a second. A name that does not exist (ENOTFOUND: not yet, or no more)
 * trusts nobody; while the resolver fails otherwise, the addresses it last had stay trusted.
 */
export class TrustedProxies {
  private readonly fixed: BlockList;
  private readonly names: string[];
  private readonly lookup: HostLookup;
  private readonly now: () => number;
  private resolved = new BlockList();
  private addresses = new Map<string, string[]>();
  private failing = new Set<string>();
  private lastResolve = -Infinity;
  private resolving: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    entries: readonly string[],
    private readonly options: TrustedProxiesOptions = {},
  ) {
    const fixed = entries.filter((entry) => isProxyAddressEntry(entry));
    this.fixed = blockListOf(fixed.flatMap((entry) => PROXY_ADDR_KEYWORDS[entry] ?? [entry]));
    this.names = entries.filter((entry) => !isProxyAddressEntry(entry)).map((name) => name.toLowerCase());
    this.lookup = options.lookup ?? systemLookup;
    this.now = options.now ?? Date.now;
  }

  /** Whether any entry is a name (else Fastify's own address list does the job). */
  get hasNames(): boolean {
    return this.names.length > 0;
  }

  /** Whether `address` is one of the trusted proxies now. */
  trusts(address: string): boolean {
    const version = isIP(address);
    if (version === 0) return false;
    const family = version === 6 ? 'ipv6' : 'ipv4';
    if (this.fixed.check(address, family) || this.resolved.check(address, family)) return true;
    if (this.names.length > 0 && this.now() - this.lastResolve >= RESOLVE_ON_MISS_MIN_MS) void this.resolve();
    return false;
  }

  /** Resolves the names (a call while one is under way waits for that one). */
  resolve(): Promise<void> {
    this.resolving ??= this.resolveEach().finally(() => {
      this.resolving = undefined;
    });
    return this.resolving;
  }

  /** Resolves the names now, then every intervalMs (the timer does not keep the process alive). */
  async start(): Promise<void> {
    if (this.names.length === 0) return;
    await this.resolve();
    this.timer = setInterval(() => void this.resolve(), this.options.intervalMs ?? TRUSTED_PROXY_RESOLVE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async resolveEach(): Promise<void> {
    this.lastResolve = this.now();
    let changed = false;
    await Promise.all(
      this.names.map(async (name) => {
        let found: string[];
        try {
          found = [...new Set(await this.lookup(name))].filter((address) => isIP(address) !== 0).sort();
        } catch (error) {
          // The name no longer exists (its container is gone): its addresses may go to another container,
          // so they are trusted no longer. Any other failure (the resolver busy or away) keeps them.
          if ((error as { code?: unknown }).code === 'ENOTFOUND' && this.addresses.delete(name)) changed = true;
          if (!this.failing.has(name)) this.options.onResolved?.(name, this.addresses.get(name) ?? [], error as Error);
          this.failing.add(name);
          return;
        }
        this.failing.delete(name);
        if (found.length === 0 || found.join() === (this.addresses.get(name) ?? []).join()) return;
        this.addresses.set(name, found);
        changed = true;
        this.options.onResolved?.(name, found);
      }),
    );
    if (changed) this.resolved = blockListOf([...this.addresses.values()].flat());
  }
}
