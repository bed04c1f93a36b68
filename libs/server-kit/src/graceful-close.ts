import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CommonErrorCode, errorBody } from './errors.js';

/**
 * How long a closing server waits for requests in flight before it drops their connections. Below Docker's
 * default stop grace period (10 s, then SIGKILL), so the store connection is still closed cleanly.
 */
export const SHUTDOWN_GRACE_MS = 8_000;

/** While closing, how often connections that have become idle (their answer sent) are ended. */
const IDLE_SWEEP_MS = 50;

/**
 * While closing, how long a connection that has sent nothing yet is given to send its request (from the start
 * of the close, or from its accept if later), which is then answered 503 (nothing was done). A proxy writes its
 * request the moment it has connected: ended at once instead, a connection accepted just before the stop lost a
 * request already on its way, and the proxy, seeing a reset after it had sent, could only answer 502 (it may
 * have been received). A spare connection of a client's pool stays silent, and is ended after this.
 */
export const SILENT_CONNECTION_WAIT_MS = 1_000;

/**
 * Answers a request the server will not work on now, before its body is read: 503 SERVICE_UNAVAILABLE with
 * Retry-After 1 s (nothing was done), and the connection closed with the answer.
 */
export function refuseForNow(reply: FastifyReply, message: string): void {
  void reply
    .header('connection', 'close')
    .header('retry-after', '1')
    .code(503)
    .send(errorBody(503, CommonErrorCode.SERVICE_UNAVAILABLE, message, { retryAfterSeconds: 1 }));
}

/**
 * Bounds a graceful close. Node's `server.close()` (Fastify's `forceCloseConnections: 'idle'`) ends the
 * keep-alive connections that are idle at that moment and then waits for every other one:
 * - a connection opened but silent counts as a request whose headers are on their way, so a client that
 *   connected just before the close (a pool's spare connection) would hold it for Node's `headersTimeout`,
 *   a minute;
 * - a connection whose answer is sent after the close began stays open as keep-alive until its client
 *   leaves.
 * So while closing: connections that have sent nothing for SILENT_CONNECTION_WAIT_MS are ended (no request of
 * theirs was read; the client sees a reset, safe to retry), connections that became idle are ended every IDLE_SWEEP_MS, and after
 * `graceMs` whatever is still open is dropped (a request that never finishes cannot keep the process up
 * until the orchestrator kills it; a claim cut off that way is finished by the reconciler, like a crash).
 * Requests being answered are left to finish within the grace period; a request that arrives once the close
 * has begun is answered 503 SERVICE_UNAVAILABLE with Retry-After. Install it after the hooks that set every
 * answer's headers (its onRequest hook answers from there).
 */
export function boundGracefulClose(fastify: FastifyInstance, graceMs = SHUTDOWN_GRACE_MS): GracefulClose {
  // Each open connection, and when it was accepted (ms, performance.now()).
  const sockets = new Map<Socket, number>();
  fastify.server.on('connection', (socket: Socket) => {
    sockets.set(socket, performance.now());
    socket.once('close', () => sockets.delete(socket));
  });
  let closingSince = 0;
  const endSilent = (): void => {
    const now = performance.now();
    for (const [socket, acceptedAt] of sockets) {
      if (socket.bytesRead === 0 && now - Math.max(acceptedAt, closingSince) >= SILENT_CONNECTION_WAIT_MS) socket.destroy();
    }
  };
  let sweep: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let closing = false;
  const begin = (): void => {
    if (closing) return;
    closing = true;
    closingSince = performance.now();
    sweep = setInterval(() => {
      endSilent();
      fastify.server.closeIdleConnections();
    }, IDLE_SWEEP_MS);
    sweep.unref();
    deadline = setTimeout(() => {
      for (const socket of sockets.keys()) socket.destroy();
    }, graceMs);
    deadline.unref();
  };
  // A request that arrives on an open connection once the close has begun is not worked on: it is told to
  // retry (nothing was done), in the error body of API.md, and its connection ends with the answer. (Fastify's
  // own `return503OnClosing` answers before any hook, without a code, Retry-After or the answer headers.)
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    refuseForNow(reply, 'The server is shutting down; nothing was done, retry');
  });
  fastify.addHook('preClose', (done) => {
    begin();
    done();
  });
  fastify.addHook('onClose', (_instance, done) => {
    // Stopped listening at the stop signal (beginAtSignal), Fastify's own close no longer waits for the
    // connections: the requests still being answered finish (or are dropped at the deadline) before the
    // shutdown goes on to close the store under them.
    const finish = (): void => {
      if (sockets.size > 0) return void setTimeout(finish, IDLE_SWEEP_MS).unref();
      clearInterval(sweep);
      clearTimeout(deadline);
      done();
    };
    finish();
  });
  return {
    beginAtSignal() {
      begin();
      if (fastify.server.listening) fastify.server.close();
    },
  };
}

export interface GracefulClose {
  /**
   * Begins the close at once, before the application's own shutdown hooks run (Nest runs every module's
   * onModuleDestroy, a payout relay waiting for its sends, a sweep finishing its pass, before it closes the
   * HTTP server): no new connection is accepted (a gateway sends the request to another replica), a request
   * on an open one is answered 503 (`/health` included: unhealthy first), and the grace period counts from
   * the signal, so the process still ends within it.
   */
  beginAtSignal(): void;
}
