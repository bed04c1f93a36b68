import type { Server } from 'node:http';
import type { Socket } from 'node:net';

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
  /** Open connections at most (0: no limit): beyond it, a new connection is closed at once. */
  total: number;
  /** Open connections from one client address at most (0: no limit). */
  perAddress: number;
}

/**
 * Closes at once a connection beyond the limits, so that one host opening connections by the thousand (and
 * sending nothing, or a byte now and then) cannot take the file descriptors every other client and the
 * upstream connections need. Closed before any byte is read: no request, no log line per connection.
 * Returns what was refused so far, for the log.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): { refused: () => number } {
  if (limits.total > 0) server.maxConnections = limits.total;
  let refused = 0;
  if (limits.perAddress > 0) {
    const open = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress;
      if (address === undefined) return;
      const count = (open.get(address) ?? 0) + 1;
      if (count > limits.perAddress) {
        refused++;
        socket.destroy();
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }
  // Those refused for the total (Node closes them itself).
  server.on('drop', () => {
    refused++;
  });
  return { refused: () => refused };
}
