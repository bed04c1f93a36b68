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
