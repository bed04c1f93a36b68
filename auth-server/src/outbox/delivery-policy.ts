/** What one POST to the event server came to, before any judgement. */
export type DeliveryResult =
  | { kind: 'response'; status: number; body: string }
  /** `code`: the system error under fetch's (ECONNREFUSED, ENOTFOUND...), when there is one. */
  | { kind: 'network'; error: string; code?: string }
  /** The relay stopped (shutdown) while the request was in flight. */
  | { kind: 'aborted' };

/**
 * - delivered: a 2xx; the message is done.
 * - retry: the event server may accept it later (5xx, network, timeout, 401 = key not fetched yet, 429, 408);
 *   `unreachable` when no connection to it could be made (nothing was sent).
 * - poison: it refused this message and will refuse it again (any other 4xx); retrying forever would only
 *   hide it, so it is marked failed with the error.
 * - abandoned: nothing was decided; give the row back without counting an attempt.
 */
export type DeliveryVerdict =
  | { verdict: 'delivered' }
  | { verdict: 'retry'; error: string; unreachable?: true }
  | { verdict: 'poison'; error: string }
  | { verdict: 'abandoned' };

const TRANSIENT_CLIENT_ERRORS = new Set([401, 408, 429]);
const MAX_ERROR_LENGTH = 500;
/** No connection was made: refused, or the name does not resolve (yet: Compose starts the servers together). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export function classifyDelivery(result: DeliveryResult): DeliveryVerdict {
  if (result.kind === 'aborted') return { verdict: 'abandoned' };
  if (result.kind === 'network') {
    const error = truncate(`network: ${result.error}`);
    return UNREACHABLE.has(result.code ?? '') ? { verdict: 'retry', error, unreachable: true } : { verdict: 'retry', error };
  }
  const { status } = result;
  if (status >= 200 && status < 300) return { verdict: 'delivered' };
  const error = truncate(`HTTP ${status}${result.body ? `: ${result.body}` : ''}`);
  if (status >= 400 && status < 500 && !TRANSIENT_CLIENT_ERRORS.has(status)) return { verdict: 'poison', error };
  // 5xx, the transient 4xx, and anything unexpected (a redirect from a misconfigured URL) are retried, not dropped.
  return { verdict: 'retry', error };
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before attempt `attempts + 1`, after `attempts` (>= 1) failures: base·2^(attempts−1), capped, with
 * "equal jitter" (half fixed, half random) so relays that failed together do not retry in lockstep.
 * `random` is in [0, 1).
 */
export function backoffDelayMs(attempts: number, policy: BackoffPolicy, random: number = Math.random()): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}
