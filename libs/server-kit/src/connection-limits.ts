import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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
  /** Open connections at most (0: no limit): beyond it, a new connection is refused (loopback has LOOPBACK_ROOM more). */
  total: number;
  /** Open connections from one client at most (0: no limit): an IPv4 address, or an IPv6 /64 (clientKeyOf). */
  perAddress: number;
}

/** Which limit a refused connection is over: its client's (`client`) or the total (`total`). */
export type OverLimit = 'client' | 'total';

/**
 * Answers the one request a connection over a limit may send (429 over its client's limit, 503 over the
 * total, each with Retry-After), and closes the connection after it.
 */
export type OverLimitAnswer = (request: IncomingMessage, response: ServerResponse, over: OverLimit) => void;

/**
 * Connections over a limit held at once for their one answer, and how long each is held at most for its
 * request to arrive. Past either, such a connection is closed without a word, as every one was before.
 */
export const REFUSED_HELD_MAX = 2_000;
export const REFUSED_HELD_MS = 10_000;
/**
 * Of those, held at once for one client (clientKeyOf) at most: one host opening silent connections faster
 * than they time out (200 a second) would otherwise take every place, and every other client over a limit
 * (players behind a shared address) would again be closed without a word. As many as the default
 * per-address limit: a launch drill from one machine, 2,000 connections at once, is answered whole.
 */
export const REFUSED_HELD_PER_CLIENT_MAX = 1_000;

/**
 * Connections from loopback (a container's health check, a local tool) accepted past the total: a health check
 * is answered whatever the load, but a client on this machine (a reverse proxy on the same host, a load test)
 * cannot open connections without bound either: a launch drill of 9,000 players x 2 connections from loopback
 * took all 20,000 of the gateway's file descriptors, and it could then connect to no replica.
 */
export const LOOPBACK_ROOM = 64;

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
 * Refuses a connection beyond the limits, so that one host opening connections by the thousand (and sending
 * nothing, or a byte now and then) cannot take the file descriptors every other client and the upstream
 * connections need. With `answer`, a refused connection is held (up to REFUSED_HELD_MAX at once, each at most
 * REFUSED_HELD_MS) for its first request, which `answer` answers (429 or 503 with Retry-After: nothing was
 * done) before the connection closes: a player at a launch, behind an address many share, is told to come
 * back rather than cut off with no answer. Without `answer`, or past those bounds, it is closed at once,
 * before any byte is read. The total leaves LOOPBACK_ROOM more for loopback (a container's health check is
 * answered whatever the load), and a connection from an address `unlimited` names (a trusted proxy in front, through
 * which many clients come) is not counted per address. Returns how many were refused so far, for the log.
 */
export function limitConnections(
  server: Server,
  limits: ConnectionLimits,
  unlimited: (address: string) => boolean = () => false,
  answer?: OverLimitAnswer,
): { refused: () => number } {
  let open = 0;
  let refused = 0;
  let held = 0;
  const perClient = new Map<string, number>();
  const heldPerClient = new Map<string, number>();
  /** The connections held for their one answer, and which limit each is over. */
  const refusedSockets = new WeakMap<Socket, OverLimit>();
  if (answer) answerRefused(server, refusedSockets, () => held > 0, answer);
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const trusted = unlimited(address);
    const key = limits.perAddress > 0 && !trusted ? clientKeyOf(address) : undefined;
    const count = key === undefined ? 0 : (perClient.get(key) ?? 0) + 1;
    const overTotal = limits.total > 0 && open >= limits.total + (isLoopback(address) ? LOOPBACK_ROOM : 0);
    if (overTotal || (key !== undefined && count > limits.perAddress)) {
      refused++;
      const heldKey = key ?? (trusted ? undefined : clientKeyOf(address));
      const heldForClient = heldKey === undefined ? 0 : (heldPerClient.get(heldKey) ?? 0);
      if (!answer || held >= REFUSED_HELD_MAX || heldForClient >= REFUSED_HELD_PER_CLIENT_MAX) {
        socket.destroy();
        return;
      }
      held++;
      if (heldKey !== undefined) heldPerClient.set(heldKey, heldForClient + 1);
      refusedSockets.set(socket, overTotal ? 'total' : 'client');
      const giveUp = setTimeout(() => socket.destroy(), REFUSED_HELD_MS);
      giveUp.unref();
      socket.once('close', () => {
        held--;
        clearTimeout(giveUp);
        if (heldKey !== undefined) countDown(heldPerClient, heldKey);
      });
      return;
    }
    open++;
    if (key !== undefined) perClient.set(key, count);
    socket.once('close', () => {
      open--;
      if (key !== undefined) countDown(perClient, key);
    });
  });
  return { refused: () => refused };
}

/**
 * The process's limit of open files (its soft RLIMIT_NOFILE), read from /proc/self/limits; undefined where there
 * is none to read (not Linux) or it is unlimited.
 */
export function openFilesLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(read());
    const soft = line ? Number(line[1]) : Number.NaN;
    return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The limits as configured, or with a total lowered to what the process's open files allow once `reserved`
 * descriptors (upstream connections, refused connections held for their answer, files, the store) are set
 * aside: a total past them would let clients take the descriptors the server needs to do their requests.
 * `lowered` says by how much it was lowered, for the log (0 when it fit).
 */
export function fitToOpenFiles(
  limits: ConnectionLimits,
  reserved: number,
  openFiles: number | undefined,
): { limits: ConnectionLimits; lowered: number } {
  if (openFiles === undefined) return { limits, lowered: 0 };
  // Half the descriptors at least: a limit too small for the reserve is a misconfiguration to fix (logged), and
  // clients still need to connect meanwhile.
  const room = Math.max(Math.floor(openFiles / 2), openFiles - reserved - LOOPBACK_ROOM);
  if (limits.total > 0 && limits.total <= room) return { limits, lowered: 0 };
  const lowered = limits.total === 0 ? Number.POSITIVE_INFINITY : limits.total - room;
  return { limits: { ...limits, total: room }, lowered };
}

/** One connection of `key` fewer in `counts` (a client with none left is not kept). */
function countDown(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left <= 0) counts.delete(key);
  else counts.set(key, left);
}

/**
 * Puts one check in front of the server's request listeners (Fastify's): a request on a refused connection
 * is answered by `answer` and never reaches a route; any other passes on as it came (while no refused
 * connection is held, without a look). A request that expects 100-continue is checked before Node would send
 * `100 Continue`: a refused one is not invited to send a body it would send for nothing.
 */
function answerRefused(
  server: Server,
  refusedSockets: WeakMap<Socket, OverLimit>,
  anyHeld: () => boolean,
  answer: OverLimitAnswer,
): void {
  type Listener = (request: IncomingMessage, response: ServerResponse) => void;
  const listeners = server.listeners('request') as Listener[];
  const pass: Listener =
    listeners.length === 1
      ? (listeners[0] as Listener)
      : (request, response) => {
          for (const listener of listeners) listener.call(server, request, response);
        };
  server.removeAllListeners('request');
  const overOf = (request: IncomingMessage): OverLimit | undefined =>
    anyHeld() ? refusedSockets.get(request.socket) : undefined;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const over = overOf(request);
    if (over === undefined) pass.call(server, request, response);
    else answer(request, response, over);
  });
  // Node's own handling of Expect: 100-continue when nobody listens: send it, then the request.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const over = overOf(request);
    if (over !== undefined) return answer(request, response, over);
    response.writeContinue();
    server.emit('request', request, response);
  });
}
