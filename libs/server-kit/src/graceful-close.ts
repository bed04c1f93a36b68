import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * How long a closing server waits for requests in flight before it drops their connections. Below Docker's
 * default stop grace period (10 s, then SIGKILL), so the store connection is still closed cleanly.
 */
export const SHUTDOWN_GRACE_MS = 8_000;

/**
 * Bounds a graceful close. Node's `server.close()` (Fastify's `forceCloseConnections: 'idle'`) ends the
 * idle keep-alive connections but waits for every other one, and a connection that was opened but has not
 * sent a byte yet counts as a request on its way: a client that connected just before the close (a pool
 * opening a connection it never used) holds the close for Node's `headersTimeout`, a minute. So on close:
 * - connections that have sent nothing are ended at once (no request of theirs exists; a client retries
 *   on another replica, since the request was never received);
 * - after `graceMs`, whatever is still open is dropped (a request that never finishes cannot keep the
 *   process up until the orchestrator kills it).
 * Requests already being handled are left to finish within the grace period.
 */
export function boundGracefulClose(fastify: FastifyInstance, graceMs = SHUTDOWN_GRACE_MS): void {
  const sockets = new Set<Socket>();
  fastify.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let deadline: NodeJS.Timeout | undefined;
  fastify.addHook('preClose', (done) => {
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
    deadline = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, graceMs);
    deadline.unref();
    done();
  });
  fastify.addHook('onClose', (_instance, done) => {
    clearTimeout(deadline);
    done();
  });
}
