import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { clientKeyOf } from './connection-limits.js';
import { refuseForNow } from './graceful-close.js';

/**
 * How much memory the request bodies being received at once may take, by the size each declares. A body is
 * held whole until it is read (up to the 1 MB limit), so without a bound 3,000 connections sending 1 MB
 * bodies slowly, from three addresses within the connection limits, took 3.2 GB of the gateway's memory.
 */
export interface BodyBudget {
  /** Bytes of the bodies larger than `smallBodyBytes` being received at once, at most. */
  bytes: number;
  /**
   * Of those, from one client at most (an IPv4 address or an IPv6 /64: clientKeyOf; behind a trusted proxy,
   * the address it forwards for); none when absent. The public gateway's: without it one client, no token
   * needed, holding 64 slow 1 MB bodies (well within its connection limit) had every large body (an activity
   * import) refused to everyone meanwhile. Not the upstreams': every request there comes from the gateway
   * (one address, as they trust no proxy), which already holds each client to its share. At least the body
   * limit, or a client could send no chunked body at all.
   */
  perClientBytes?: number;
  /**
   * A body of at most this many bytes is not counted: those are bounded by the connection limits (10,000 x
   * 16 KB: 160 MB), and a crowd's claims, logins and edits never wait for the budget.
   */
  smallBodyBytes: number;
}

export const DEFAULT_BODY_BUDGET: BodyBudget = { bytes: 64 * 1024 * 1024, smallBodyBytes: 16 * 1024 };

/** The public gateway's: DEFAULT_BODY_BUDGET, of which one client may hold an eighth. */
export const PUBLIC_BODY_BUDGET: BodyBudget = { ...DEFAULT_BODY_BUDGET, perClientBytes: 8 * 1024 * 1024 };

export const BODY_BUDGET_SPENT_MESSAGE = 'The server is receiving too many large request bodies at once; nothing was done, retry';

/**
 * The bytes a request's body may take: what its Content-Length says, or the whole limit for a chunked one;
 * 0 for none, and for one declared over the limit (refused 413 before it is read).
 */
export function declaredBodyBytes(headers: IncomingHttpHeaders, limitBytes: number): number {
  const length = headers['content-length'];
  if (length !== undefined) {
    const bytes = Number(length);
    return Number.isSafeInteger(bytes) && bytes > 0 && bytes <= limitBytes ? bytes : 0;
  }
  return headers['transfer-encoding'] !== undefined ? limitBytes : 0;
}

/**
 * Counts the large bodies being received (from just before the body is read, when every `onRequest` hook has
 * let the request through, until its answer is sent or its connection is gone), in all and per client, and
 * answers 503 SERVICE_UNAVAILABLE with Retry-After, before reading a byte of the body, to one that would take
 * either count past the budget; the connection is closed with that answer, so the unread body is not read
 * either. A request refused at `onRequest` (the gateway's route and token checks, a shed claim) holds none of
 * it: a client without a valid token cannot take the budget from the ones that have one.
 */
export function limitBodiesInFlight(fastify: FastifyInstance, budget: BodyBudget, limitBytes: number): void {
  let inFlight = 0;
  const byClient = new Map<string, number>();
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    // By the route's own limit where it has a smaller one (a chunked body is read up to it at most).
    const bytes = declaredBodyBytes(request.headers, Math.min(limitBytes, request.routeOptions.bodyLimit ?? limitBytes));
    if (bytes <= budget.smallBodyBytes) return done(null, payload);
    const client = clientKeyOf(request.ip);
    const clientBytes = byClient.get(client) ?? 0;
    if (inFlight + bytes > budget.bytes || clientBytes + bytes > (budget.perClientBytes ?? budget.bytes)) {
      refuseForNow(reply, BODY_BUDGET_SPENT_MESSAGE);
      return;
    }
    inFlight += bytes;
    byClient.set(client, clientBytes + bytes);
    reply.raw.once('close', () => {
      inFlight -= bytes;
      const left = (byClient.get(client) ?? 0) - bytes;
      if (left > 0) byClient.set(client, left);
      else byClient.delete(client);
    });
    done(null, payload);
  });
}
