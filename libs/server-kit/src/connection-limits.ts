import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ipv6Groups } from './ip-address.js';

/**
 * How long a client may take to send a request: its headers, then the whole request (body included). A
 * client that trickles its headers or its body (a byte every few seconds) holds a connection and a file
 * descriptor until then, never longer; it is answered 408 REQUEST_TIMEOUT (client-error.ts). Node checks
 * the connections every CONNECTIONS_CHECK_INTERVAL_MS, so a limit is enforced at most that much later.
 */
export const HEADERS_TIMEOUT_MS = 20_000;
export const REQUEST_TIMEOUT_MS = 60_000;
export const CONNECTIONS_CHECK_INTERVAL_MS = 2_000;

export interface ConnectionLimits {
  /** Open connections at most (0: no limit): beyond it, a new connection is closed at once (loopback's excepted). */
  total: number;
  /** Open connections from one client at most (0: no limit): an IPv4 address, or an IPv6 /64 (clientKeyOf). */
  perAddress: number;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** Whether a connection comes from this machine (its health check, a local tool). */
export function isLoopback(address: string): boolean {
  const v4 = IPV4_MAPPED.exec(address)?.[1] ?? address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * The client a connection's address stands for: an IPv4 address as it is (also when an IPv6 listener writes it
 * IPv4-mapped), an IPv6 address by its first 64 bits, since one host is commonly given a whole /64 and could
 * otherwise open every connection from an address of its own.
 */
export function clientKeyOf(address: string): string {
  const mapped = IPV4_MAPPED.exec(address);
  if (mapped) return mapped[1] as string;
  const groups = ipv6Groups(address);
  if (groups === undefined) return address;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/**
 * Closes at once a connection beyond the limits, so that one host opening connections by the thousand (and
 * sending nothing, or a byte now and then) cannot take the file descriptors every other client and the
 * upstream connections need. Closed before any byte is read: no request, no log line per connection. The
 * total leaves room for loopback (a container's health check is answered whatever the load), and a
 * connection from an address `unlimited` names (a trusted proxy in front, through which many clients come)
 * is not counted per address. Returns how many were refused so far, for the log.
 */
export function limitConnections(
  server: Server,
  limits: ConnectionLimits,
  unlimited: (address: string) => boolean = () => false,
): { refused: () => number } {
  let open = 0;
  let refused = 0;
  const perClient = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const key = limits.perAddress > 0 && !unlimited(address) ? clientKeyOf(address) : undefined;
    const count = key === undefined ? 0 : (perClient.get(key) ?? 0) + 1;
    const overTotal = limits.total > 0 && open >= limits.total && !isLoopback(address);
    if (overTotal || (key !== undefined && count > limits.perAddress)) {
      refused++;
      socket.destroy();
      return;
    }
    open++;
    if (key !== undefined) perClient.set(key, count);
    socket.once('close', () => {
      open--;
      if (key === undefined) return;
      const left = (perClient.get(key) ?? 1) - 1;
      if (left <= 0) perClient.delete(key);
      else perClient.set(key, left);
    });
  });
  return { refused: () => refused };
}
