import type { ClaimDecisionEntity } from '../claims/claim-decision.schema.js';
import { SYSTEM_ACTOR } from '../claims/claim.js';
import type { ClaimEntity } from '../claims/claim.schema.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';

/** A claim decision as the outbox reads it (the decisions still marked payoutPending). */
export type StoredOutboxDecision = ClaimDecisionEntity & { _id: { toString(): string } };
export type StoredClaimFields = Pick<ClaimEntity, 'eventId' | 'userId' | 'status' | 'rewards' | 'createdAt'> & {
  _id: { toString(): string };
};

/** A claim born decided, as the outbox reads it (the claims still marked payoutPending). */
export type StoredOutboxClaim = Pick<
  ClaimEntity,
  'status' | 'reason' | 'note' | 'decidedAt' | 'decidedBy' | 'createdAt' | 'payoutEndpointIds'
> & { _id: { toString(): string } };

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
    source: 'decision',
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

export const OUTBOX_CLAIM_FIELDS = {
  status: 1,
  reason: 1,
  note: 1,
  decidedAt: 1,
  decidedBy: 1,
  createdAt: 1,
  payoutEndpointIds: 1,
} as const;

/** A claim born decided is its own first decision: born applied, its id the webhook's id. */
export function claimOutboxEntry(doc: StoredOutboxClaim): OutboxEntry {
  const id = doc._id.toString();
  return {
    source: 'claim',
    decisionId: id,
    claimId: id,
    toStatus: doc.status,
    ...(doc.reason != null && { reason: doc.reason }),
    ...(doc.note != null && { note: doc.note }),
    decidedBy: doc.decidedBy ?? SYSTEM_ACTOR,
    at: doc.decidedAt ?? doc.createdAt,
    applied: true,
    endpointIds: [...(doc.payoutEndpointIds ?? [])],
  };
}
