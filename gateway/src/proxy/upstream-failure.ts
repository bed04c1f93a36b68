import { CommonErrorCode, type ErrorBody, errorBody } from '@reward/server-kit/errors';
import { NO_REPLICA_CODE } from './replica-pool.js';

export const GatewayErrorCode = {
  /** The upstream accepted the connection but broke it or answered something unusable. */
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
} as const;

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
 * The 503 carries Retry-After, as every 429 and 503 does (no replica received the request, so nothing was
 * recorded: the client should come back): the replica cooldown (`cooldownMs`) in whole seconds, at least 1,
 * the time the gateway itself gives a replica that refused before counting on it again.
 */
export function upstreamFailure(
  error: unknown,
  upstream: string,
  timeoutMs: number,
  cooldownMs: number,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const codes = codesOf(error);
  if (codes.some((code) => UNREACHABLE_CODES.has(code))) {
    const retryAfterSeconds = Math.max(1, Math.ceil(cooldownMs / 1000));
    return {
      status: 503,
      body: errorBody(503, CommonErrorCode.UPSTREAM_UNAVAILABLE, `${upstream} server is unavailable`, { retryAfterSeconds }),
      headers: { 'retry-after': String(retryAfterSeconds) },
    };
  }
  if (codes.some((code) => TIMEOUT_CODES.has(code))) {
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
