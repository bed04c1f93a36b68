import type { FastifyInstance } from 'fastify';
import { AtMostEvery } from './at-most-every.js';
import { CommonErrorCode, DomainError } from './errors.js';
import { refuseForNow } from './graceful-close.js';
import { RESENT_AFTER_DROP_HEADER } from './resent-after-drop.js';

/**
 * Set by the gateway, and only by it, on every request it proxies that may record something (any but GET and
 * HEAD): the time (ms since the epoch) after which
 * the upstream should not start work on the request that records something, because the gateway may no longer
 * be waiting for the answer when that work is done. It is half the gateway's upstream timeout after the gateway
 * sent the request (UPSTREAM_TIMEOUT_MS): half of it to wait for a turn, half to do the work. On a saturated
 * machine a request can reach an upstream's handler seconds after it was sent (in the kernel's queues, behind a
 * busy event loop); the upstream's own clock for it starts only then. A claim started that late would be recorded
 * after the gateway had answered 504, telling the client nothing of it. With this, the event server sheds such a
 * claim instead (503 CLAIMS_BUSY: nothing recorded), or, for a claim resent after another replica dropped it,
 * answers for its key without deciding it (see ClaimsService).
 *
 * The gateway removes every `x-internal-*` header of a client's request (they are spoofable there). The gateway
 * and the upstreams compare wall clocks: a skew between their hosts shifts the limit by as much, and half the
 * budget is left on each side so that a skew of seconds still sheds nothing that would have been answered in time.
 */
export const START_BY_HEADER = 'x-internal-start-by';

/** The header's value for a request the gateway sends now (`nowMs`) and waits `timeoutMs` for. */
export function startByValue(nowMs: number, timeoutMs: number): string {
  return String(nowMs + Math.floor(timeoutMs / 2));
}

/** An epoch time in ms: digits only, at most 15 of them (until the year 33658). */
const EPOCH_MS = /^\d{1,15}$/;

/**
 * How far from the server's clock a start-by time can be and still be one the gateway set: the gateway sets it at
 * most 150 s ahead (half the largest UPSTREAM_TIMEOUT_MS) and gives up on a request within 300 s. A value further
 * off is a direct caller's (`0`, say) or a clock set wrong by more than minutes; it sets no limit, rather than
 * shedding every claim of a gateway whose clock is behind, or logging a lateness of decades.
 */
export const START_BY_PLAUSIBLE_MS = 10 * 60_000;

/**
 * The ms left before a request's start-by time (zero or less once it has passed), or undefined when the request
 * has none (a direct call to the server, a malformed value, or one further than START_BY_PLAUSIBLE_MS from
 * `nowMs`: no limit then).
 */
export function msLeftToStart(headers: Record<string, string | string[] | undefined>, nowMs = Date.now()): number | undefined {
  const value = headers[START_BY_HEADER];
  if (typeof value !== 'string' || !EPOCH_MS.test(value)) return undefined;
  const left = Number(value) - nowMs;
  return Math.abs(left) > START_BY_PLAUSIBLE_MS ? undefined : left;
}

/**
 * The request's start-by time (ms since the epoch, as Date.now()), or undefined when it sets no limit (as for
 * msLeftToStart): what a write that may wait after the arrival check (for a lock, a lookup) must begin by.
 */
export function startByOf(headers: Record<string, string | string[] | undefined>, nowMs = Date.now()): number | undefined {
  const left = msLeftToStart(headers, nowMs);
  return left === undefined ? undefined : nowMs + left;
}

/** The ms left until a start-by time from startByOf (zero or less once it has passed), or undefined without one. */
export function msUntilStartBy(startBy: number | undefined, nowMs = Date.now()): number | undefined {
  return startBy === undefined ? undefined : startBy - nowMs;
}

export const LATE_WRITE_MESSAGE =
  'The request reached its write after the time it had to be started by (the gateway may stop waiting for its ' +
  'answer); nothing was done, retry';

/**
 * For a write that waited since the request's arrival (refuseLateStarts checked its start-by time then): throws
 * 503 SERVICE_UNAVAILABLE with Retry-After: 1 when `startBy` (startByOf) has passed, so that nothing is begun that
 * the client may never be told of. Goes right before the first write; none for a request without a start-by time.
 * Writes under a LeaseMutex have the same check in `assertHeld()` (ExclusiveRun.startBy).
 */
export function refuseWriteAfterStartBy(startBy: number | undefined, nowMs = Date.now()): void {
  if (startBy !== undefined && nowMs >= startBy) {
    throw new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, LATE_WRITE_MESSAGE, { retryAfterSeconds: 1 });
  }
}

/** Methods that record nothing: the gateway sets no start-by time on them. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const LATE_START_MESSAGE =
  'The request reached the server after the time it had to be started by (the gateway may have stopped waiting for ' +
  'it); nothing was done, retry';

/**
 * The same for a request the gateway sent on after another replica dropped it unanswered (RESENT_AFTER_DROP_HEADER):
 * this server did nothing, but the replica that dropped it may have, so "nothing was done" would not be true.
 */
export const LATE_RESEND_MESSAGE =
  'The request reached this server, sent on after another server dropped it unanswered, after the time it had to be ' +
  'started by: this server did nothing, but the server that dropped it may have acted on it; send it again to learn ' +
  'its outcome';

/**
 * A request that may record something (any method but GET, HEAD and OPTIONS) that reaches this server past its
 * start-by time (START_BY_HEADER) is answered 503 SERVICE_UNAVAILABLE with Retry-After before any of it is read
 * or done: the gateway may already have answered 504, and a change made now would be one its client was never
 * told of (an account registered, a role changed, a claim approved, an import recorded after a 504 and recorded
 * again by the retry). Routes in `except` judge the time themselves (the claim route: see ClaimsService). Only
 * for the servers behind the gateway: a client's own `x-internal-*` headers never get past it.
 */
export function refuseLateStarts(fastify: FastifyInstance, { except = [] }: { except?: readonly string[] } = {}): void {
  // Every write refused at once means the server is far behind, or its clock is ahead of the gateway's by more
  // than half its timeout: said in one warning at a time (LateStarts).
  const late = new LateStarts();
  fastify.addHook('onRequest', (request, reply, done) => {
    if (READS.has(request.method)) return done();
    const left = msLeftToStart(request.headers);
    if (left === undefined || left > 0 || except.includes(request.routeOptions.url ?? '')) return done();
    const spell = late.note(-left);
    if (spell) {
      fastify.log.warn(
        { refused: spell.count, mostLateMs: spell.worstMs },
        "writes reached this server past their start-by time and were refused 503: it is far behind, or its clock is ahead of the gateway's",
      );
    }
    refuseForNow(reply, request.headers[RESENT_AFTER_DROP_HEADER] === undefined ? LATE_START_MESSAGE : LATE_RESEND_MESSAGE);
  });
}

/**
 * Requests that arrived past their start-by time, counted for a warning at most every `everyMs`: expected now
 * and then on a saturated machine, but on an idle one it means this host's clock is ahead of the gateway's by
 * more than half its timeout, and every such request through the gateway is turned away.
 */
export class LateStarts {
  private count = 0;
  private worstMs = 0;
  private readonly warning: AtMostEvery;

  constructor(everyMs = 10_000) {
    this.warning = new AtMostEvery(everyMs);
  }

  /**
   * Counts one request `lateMs` past its time; when a warning is due, the requests counted since the last one
   * (this one included) and the most any was late, and the count starts over.
   */
  note(lateMs: number, now = Date.now()): { count: number; worstMs: number } | undefined {
    this.count++;
    this.worstMs = Math.max(this.worstMs, lateMs);
    if (!this.warning.due(now)) return undefined;
    const spell = { count: this.count, worstMs: this.worstMs };
    this.count = 0;
    this.worstMs = 0;
    return spell;
  }
}
