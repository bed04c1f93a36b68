import type { ClaimDecisionEntity } from '../claims/claim-decision.schema.js';
import { SYSTEM_ACTOR, claimRewardOf } from '../claims/claim.js';
import type { ClaimEntity } from '../claims/claim.schema.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';

/** A claim decision as the outbox reads it (the decisions still marked payoutPending). */
export type StoredOutboxDecision = ClaimDecisionEntity & { _id: { toString(): string } };
export type StoredClaimFields = Pick<ClaimEntity, 'eventId' | 'userId' | 'status' | 'rewards' | 'createdAt'> & {
  _id: { toString(): string };
};

/** A claim born decided, as the outbox reads it (the claims still marked payoutPending). */
export type StoredOutboxClaim = Pick<ClaimEntity, 'status' | 'bornStatus' | 'decidedBy' | 'createdAt' | 'payoutEndpointIds'> & {
  _id: { toString(): string };
};

export const CLAIM_FIELDS = { eventId: 1, userId: 1, status: 1, rewards: 1, createdAt: 1 } as const;

export function toPayoutClaim(doc: StoredClaimFields): PayoutClaim {
  return {
    id: doc._id.toString(),
    eventId: doc.eventId,
    userId: doc.userId,
    status: doc.status,
    rewards: (doc.rewards ?? []).map(claimRewardOf),
    createdAt: doc.createdAt,
  };
}

export function toOutboxEntry(doc: StoredOutboxDecision): OutboxEntry {
  return {
    source: 'decision',
    decisionId: doc._id.toString(),
    claimId: doc.claimId,
    toStatus: doc.toStatus,
    fromStatus: doc.fromStatus,
    ...(doc.reason != null && { reason: doc.reason }),
    ...(doc.note != null && { note: doc.note }),
    decidedBy: doc.decidedBy,
    at: doc.at,
    applied: doc.appliedAt != null,
    endpointIds: [...(doc.payoutEndpointIds ?? [])],
  };
}

export const OUTBOX_CLAIM_FIELDS = { status: 1, bornStatus: 1, decidedBy: 1, createdAt: 1, payoutEndpointIds: 1 } as const;

/**
 * The status a claim without bornStatus was born with, from where it is now. bornStatus is written only on a
 * claim born GRANTED or PENDING with subscribers when it was made: a claim recorded before it existed, or made
 * while no subscriber was known (the back-fill of a new endpoint reads those), has none. A REJECTED claim
 * decided by the system was refused when it was made (born REJECTED: no webhook; once read as born PENDING, a
 * new endpoint's back-fill sent a `claim.pending` for each refusal of its first seconds); one decided by a
 * reviewer was PENDING (only a review rejects a PENDING claim). An approval leaves a reviewer as decidedBy; a
 * revocation is only of a GRANTED claim (born so, as an AUTO grant is; one approved and then revoked is told
 * apart by its approval, a decision out of PENDING, which the back-fill reads: PayoutBackfill.pass).
 */
function inferredBornStatus(doc: StoredOutboxClaim): string {
  if (doc.status === 'REJECTED') return doc.decidedBy === undefined || doc.decidedBy === SYSTEM_ACTOR ? 'REJECTED' : 'PENDING';
  if (doc.status === 'GRANTED' && doc.decidedBy !== undefined && doc.decidedBy !== SYSTEM_ACTOR) return 'PENDING';
  if (doc.status === 'REVOKED') return 'GRANTED';
  return doc.status;
}

/**
 * A claim born decided is its own first decision: born applied, its id the webhook's id, decided by the
 * system when it was made, with no reason or note. It announces the status it was born with, whatever the
 * claim's status is by the time the relay reads it: an approval or a revocation made a moment after the
 * claim is a decision with its own webhook (reading the status now sent that move twice and never the first).
 */
export function claimOutboxEntry(doc: StoredOutboxClaim): OutboxEntry {
  const id = doc._id.toString();
  return {
    source: 'claim',
    decisionId: id,
    claimId: id,
    toStatus: doc.bornStatus ?? inferredBornStatus(doc),
    decidedBy: SYSTEM_ACTOR,
    at: doc.createdAt,
    applied: true,
    endpointIds: [...(doc.payoutEndpointIds ?? [])],
  };
}
