import type { ClaimDecisionEntity } from '../claims/claim-decision.schema.js';
import type { ClaimEntity } from '../claims/claim.schema.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';

/** A claim decision as the outbox reads it (the decisions still marked payoutPending). */
export type StoredOutboxDecision = ClaimDecisionEntity & { _id: { toString(): string } };
export type StoredClaimFields = Pick<ClaimEntity, 'eventId' | 'userId' | 'status' | 'rewards' | 'createdAt'> & {
  _id: { toString(): string };
};

export const CLAIM_FIELDS = { eventId: 1, userId: 1, status: 1, rewards: 1, createdAt: 1 } as const;

export function toPayoutClaim(doc: StoredClaimFields): PayoutClaim {
  return {
    id: doc._id.toString(),
    eventId: doc.eventId,
    userId: doc.userId,
    status: doc.status,
    rewards: (doc.rewards ?? []).map((reward) => ({
      rewardId: reward.rewardId,
      type: reward.type,
      name: reward.name,
      quantity: reward.quantity,
    })),
    createdAt: doc.createdAt,
  };
}

export function toOutboxEntry(doc: StoredOutboxDecision): OutboxEntry {
  return {
    decisionId: doc._id.toString(),
    claimId: doc.claimId,
    toStatus: doc.toStatus,
    ...(doc.reason != null && { reason: doc.reason }),
    ...(doc.note != null && { note: doc.note }),
    decidedBy: doc.decidedBy,
    at: doc.at,
    applied: doc.appliedAt != null,
    endpointIds: [...(doc.payoutEndpointIds ?? [])],
  };
}
