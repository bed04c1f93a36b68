import { CommonErrorCode, type ErrorBody, errorBody } from '@reward/server-kit/errors';
import { NO_REPLICA_CODE, OUT_OF_FILES_CODES } from './replica-pool.js';

export const GatewayErrorCode = {
  /** The upstream accepted the connection but broke it or answered something unusable. */
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  /**
   * The event server's own code for a key whose first request has no outcome yet, which the gateway answers
   * too for a keyed claim that got no answer (see upstreamFailure's `keyed`).
   */
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
} as const;

/** How soon a keyed claim that got no answer is told to ask again with its key (s). */
export const UNANSWERED_KEY_RETRY_AFTER_SECONDS = 1;

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'FST_REPLY_FROM_SERVICE_UNAVAILABLE',
  // Every replica frozen (ReplicaPool): none was sent the request.
  NO_REPLICA_CODE,
]);

/** The code an upstream failure began with (the last along its cause chain), for the request's log line. */
export function rootCodeOf(error: unknown): string | undefined {
  return codesOf(error).at(-1);
}

/** Error codes along the cause chain (reply-from wraps undici's errors, undici wraps the socket's). */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') codes.push(code);
    current = cause;
  }
  return codes;
}

/**
 * What the client hears when an upstream fails before answering: 503 when it cannot be reached, 504 when
 * it is too slow, 502 for anything else. Never a 500: the gateway itself did nothing wrong.
 *
 * `keyed`: the request carries an Idempotency-Key its route honours (a claim). Where the upstream may have
 * received it (a 504 or a 502), it may have been recorded, or be still running there; the client is told
 * what the event server itself answers a key in that state, 409 IDEMPOTENCY_IN_PROGRESS with Retry-After,
 * and its retry with the key gets the outcome (the recorded claim, or a decision if nothing was recorded).
 * A 504 or a 502 would not say that the answer is one retry away, and after one a claim may exist.
 *
 * The 503 carries Retry-After, as every 429 and 503 does (no replica received the request, so nothing was
 * recorded: the client should come back): the replica cooldown (`cooldownMs`) in whole seconds, at least 1,
 * the time the gateway itself gives a replica that refused before counting on it again.
 */
export function upstreamFailure(
  error: unknown,
  upstream: string,
  timeoutMs: number,
  cooldownMs: number,
  keyed = false,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const codes = codesOf(error);
  if (codes.some((code) => OUT_OF_FILES_CODES.has(code))) {
    return {
      status: 503,
      body: errorBody(
        503,
        CommonErrorCode.SERVICE_UNAVAILABLE,
        `the gateway cannot open a connection to the ${upstream} server now (too many open connections); nothing was sent`,
        { retryAfterSeconds: 1 },
      ),
      headers: { 'retry-after': '1' },
    };
  }
  if (codes.some((code) => UNREACHABLE_CODES.has(code))) {
    const retryAfterSeconds = Math.max(1, Math.ceil(cooldownMs / 1000));
    return {
      status: 503,
      body: errorBody(503, CommonErrorCode.UPSTREAM_UNAVAILABLE, `${upstream} server is unavailable`, { retryAfterSeconds }),
      headers: { 'retry-after': String(retryAfterSeconds) },
    };
  }
  const timedOut = codes.some((code) => TIMEOUT_CODES.has(code));
  if (keyed) {
    const retryAfterSeconds = UNANSWERED_KEY_RETRY_AFTER_SECONDS;
    const what = timedOut ? `did not answer within ${timeoutMs} ms` : 'dropped the request before answering';
    return {
      status: 409,
      body: errorBody(
        409,
        GatewayErrorCode.IDEMPOTENCY_IN_PROGRESS,
        `${upstream} server ${what}: this request may be recorded or still running; send it again with the same Idempotency-Key to learn its outcome`,
        { retryAfterSeconds },
      ),
      headers: { 'retry-after': String(retryAfterSeconds) },
    };
  }
  if (timedOut) {
    return {
      status: 504,
      body: errorBody(504, CommonErrorCode.UPSTREAM_TIMEOUT, `${upstream} server did not answer within ${timeoutMs} ms`),
      headers: {},
    };
  }
  return {
    status: 502,
    body: errorBody(502, GatewayErrorCode.UPSTREAM_ERROR, `${upstream} server failed to answer`),
    headers: {},
  };
}
