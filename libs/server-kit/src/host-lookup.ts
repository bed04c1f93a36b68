import { lookup } from 'node:dns/promises';

/** Every address a host name resolves to. */
export type HostLookup = (hostname: string) => Promise<string[]>;

/** The system resolver's answer (/etc/hosts, then DNS), every address in the order it gave them. */
export const systemLookup: HostLookup = async (hostname) =>
  (await lookup(hostname, { all: true, order: 'verbatim' })).map((entry) => entry.address);
