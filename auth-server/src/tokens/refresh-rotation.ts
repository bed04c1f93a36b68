import type { RefreshToken } from './refresh-token.js';
import { type RefreshRejection, TokenErrorCode } from './token-errors.js';

export type PresentedTokenVerdict = { usable: true; token: RefreshToken } | { usable: false; rejection: RefreshRejection };

/**
 * Whether a presented refresh token may be rotated at all. Whether it was already rotated is not decided
 * here: that is the successor insert's unique `parentId`, the only check that holds under concurrency.
 */
export function assessPresentedToken(
  token: RefreshToken | undefined,
  state: { familyRevoked: boolean; now: Date },
): PresentedTokenVerdict {
  if (!token) return { usable: false, rejection: TokenErrorCode.INVALID_REFRESH_TOKEN };
  if (state.familyRevoked) return { usable: false, rejection: TokenErrorCode.INVALID_REFRESH_TOKEN };
  if (token.expiresAt.getTime() <= state.now.getTime()) return { usable: false, rejection: TokenErrorCode.INVALID_REFRESH_TOKEN };
  return { usable: true, token };
}

export type SuccessorInsertOutcome = 'inserted' | 'parent-already-has-successor';

/**
 * After the successor insert: losing it means the presented token was rotated before (a replay or a
 * parallel duplicate), which is treated as theft: the family is revoked and the caller refused.
 */
export function rotationOutcome(
  outcome: SuccessorInsertOutcome,
): { rotated: true } | { rotated: false; revokeFamily: true; rejection: RefreshRejection } {
  if (outcome === 'inserted') return { rotated: true };
  return { rotated: false, revokeFamily: true, rejection: TokenErrorCode.REFRESH_TOKEN_REUSED };
}

/**
 * How long after a keyed refresh its retry (the same token, the same Idempotency-Key) is answered the same new
 * token: a client whose answer was lost (a 503 or 504 after the rotation was stored, a dropped connection) retries
 * within seconds; the window is what it may take to come back.
 */
export const KEYED_REFRESH_RETRY_MS = 5 * 60_000;

/** The stored successor of a presented token, as far as a keyed retry needs it. */
export interface StoredSuccessor {
  id: string;
  tokenHash: string;
  createdAt: Date;
}

/**
 * A keyed refresh that lost the successor insert: 'replay' (answer the successor again) only when that successor
 * is the one this token and key make (the same hash), was made within KEYED_REFRESH_RETRY_MS and has not been
 * presented itself since (`successorRotated`: it has a successor of its own). Anything else (another key, no key,
 * too late, the new token already used) is a second use of the token: 'reuse', as without a key.
 */
export function keyedRetryVerdict(
  successor: StoredSuccessor | undefined,
  expected: { tokenHash: string; successorRotated: boolean; now: Date },
): 'replay' | 'reuse' {
  if (!successor || successor.tokenHash !== expected.tokenHash) return 'reuse';
  if (expected.now.getTime() - successor.createdAt.getTime() > KEYED_REFRESH_RETRY_MS) return 'reuse';
  return expected.successorRotated ? 'reuse' : 'replay';
}
