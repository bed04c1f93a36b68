import type { ClaimDecisionRecord } from './claim-decision.repository.js';
import type { ClaimRecord, ClaimReward } from './claim.repository.js';
import type { ClaimReason, PublicClaimStatus } from './claim.state-machine.js';
import type { PayoutStatus } from '../payout/payout.rules.js';

export interface ClaimPayoutView {
  status: PayoutStatus;
  attempts: number;
  lastAttemptAt?: string;
  lastError?: string;
  deliveredAt?: string;
}

/** Who decided when no person did (automatic grants, system rejections, the reconciler). */
export const SYSTEM_ACTOR = 'system';

export interface ClaimView {
  id: string;
  eventId: string;
  userId: string;
  status: PublicClaimStatus;
  reason?: ClaimReason;
  note?: string;
  rewards: ClaimReward[];
  createdAt: string;
  decidedAt?: string;
  decidedBy?: string;
  payout: ClaimPayoutView;
}

/**
 * A claim as the API shows it. PROCESSING never leaves the server: a claim still in it shows what its
 * decision made of it, or PENDING while nothing has been decided yet.
 */
export function toClaimView(claim: ClaimRecord, processingDecision?: ClaimDecisionRecord): ClaimView {
  const decided = claim.status === 'PROCESSING' && processingDecision ? processingDecision : undefined;
  const status = decided ? decided.toStatus : claim.status;
  const reason = decided ? decided.reason : claim.reason;
  const decidedAt = decided ? decided.at : claim.decidedAt;
  const decidedBy = decided ? decided.decidedBy : claim.decidedBy;
  return {
    id: claim.id,
    eventId: claim.eventId,
    userId: claim.userId,
    status: status === 'PROCESSING' ? 'PENDING' : status,
    ...(reason !== undefined && { reason }),
    ...(claim.note !== undefined && { note: claim.note }),
    rewards: claim.rewards,
    createdAt: claim.createdAt.toISOString(),
    ...(decidedAt !== undefined && { decidedAt: decidedAt.toISOString() }),
    ...(decidedBy !== undefined && decidedBy !== SYSTEM_ACTOR && { decidedBy }),
    payout: payoutView(claim, decided),
  };
}

/** Before its decision is projected, a claim's webhooks are already due when the decision carries some. */
function payoutView(claim: ClaimRecord, decided: ClaimDecisionRecord | undefined): ClaimPayoutView {
  const payout = claim.payout ?? (decided?.payoutPending ? { status: 'PENDING' as const, attempts: 0 } : undefined);
  if (!payout) return { status: 'NOT_REQUIRED', attempts: 0 };
  return {
    status: payout.status,
    attempts: payout.attempts,
    ...(payout.lastAttemptAt && { lastAttemptAt: payout.lastAttemptAt.toISOString() }),
    ...(payout.lastError !== undefined && { lastError: payout.lastError }),
    ...(payout.deliveredAt && { deliveredAt: payout.deliveredAt.toISOString() }),
  };
}
