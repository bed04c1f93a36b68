import { Types } from 'mongoose';
import type { ClaimPayout } from '../payout/payout.rules.js';
import type { ClaimDecisionEntity } from './claim-decision.schema.js';
import type { ClaimEntity } from './claim.schema.js';
import {
  type ClaimDecisionRecord,
  type ClaimRecord,
  type NewClaim,
  SYSTEM_ACTOR,
  claimRewardOf,
  unitKeyOf,
  unitNumberOf,
} from './claim.js';
import { withoutCouponCode } from '../rewards/reward.mapper.js';
import type { ClaimPayoutResponseDto, ClaimResponseDto } from './dto/claim-response.dto.js';

/** A claim's stored document, as a lean read returns it. */
export type StoredClaim = ClaimEntity & { _id: Types.ObjectId };

/** The claim a stored document holds. */
export function toClaim(doc: StoredClaim): ClaimRecord {
  return {
    id: doc._id.toString(),
    eventId: doc.eventId,
    userId: doc.userId,
    status: doc.status,
    ...(doc.reason != null && { reason: doc.reason }),
    ...(doc.note != null && { note: doc.note }),
    rewards: (doc.rewards ?? []).map(claimRewardOf),
    slotKey: doc.slotKey,
    ...(doc.idempotencyKey != null && { idempotencyKey: doc.idempotencyKey }),
    createdAt: doc.createdAt,
    ...(doc.decidedAt != null && { decidedAt: doc.decidedAt }),
    ...(doc.decidedBy != null && { decidedBy: doc.decidedBy }),
    ...(doc.releasePending === true && { releasePending: true }),
    ...(doc.payout != null && { payout: payoutOf(doc.payout) }),
    ...(doc.unitKey != null &&
      doc.unitRewardId != null && { unit: { rewardId: doc.unitRewardId, unit: unitNumberOf(doc.unitKey, doc.unitRewardId) } }),
  };
}

function payoutOf(payout: NonNullable<ClaimEntity['payout']>): ClaimPayout {
  return {
    status: payout.status,
    attempts: payout.attempts,
    ...(payout.lastAttemptAt != null && { lastAttemptAt: payout.lastAttemptAt }),
    ...(payout.lastError != null && { lastError: payout.lastError }),
    ...(payout.deliveredAt != null && { deliveredAt: payout.deliveredAt }),
  };
}

/** The stored document of a new claim: the record's fields, absent ones left out (never stored as null). */
export function toClaimDocument(claim: NewClaim): StoredClaim {
  return {
    _id: new Types.ObjectId(claim.id),
    eventId: claim.eventId,
    userId: claim.userId,
    status: claim.status,
    ...(claim.reason !== undefined && { reason: claim.reason }),
    ...(claim.note !== undefined && { note: claim.note }),
    rewards: claim.rewards.map(claimRewardOf),
    slotKey: claim.slotKey,
    ...(claim.idempotencyKey !== undefined && { idempotencyKey: claim.idempotencyKey }),
    createdAt: claim.createdAt,
    ...(claim.decidedAt !== undefined && { decidedAt: claim.decidedAt }),
    ...(claim.decidedBy !== undefined && { decidedBy: claim.decidedBy }),
    ...(claim.releasePending === true && { releasePending: true }),
    ...(claim.payout !== undefined && { payout: { ...claim.payout } }),
    ...(claim.payoutEndpointIds !== undefined &&
      claim.payoutEndpointIds.length > 0 && {
        payoutPending: true,
        payoutEndpointIds: [...claim.payoutEndpointIds],
        // Only a claim born decided carries an outbox of its own: born GRANTED or PENDING.
        ...((claim.status === 'GRANTED' || claim.status === 'PENDING') && { bornStatus: claim.status }),
      }),
    ...(claim.unit !== undefined && {
      unitKey: unitKeyOf(claim.unit.rewardId, claim.unit.unit),
      unitRewardId: claim.unit.rewardId,
    }),
  };
}

/**
 * A claim as the API shows it. PROCESSING never leaves the server: a claim still in it is PENDING until
 * its decision is applied (pass it through `settled` first to show what its decision made of it).
 */
export function toClaimResponse(claim: ClaimRecord): ClaimResponseDto {
  // A claim waiting for review is not decided yet: it shows no decidedAt (the store keeps when it was filed).
  const decided = claim.status !== 'PENDING' && claim.status !== 'PROCESSING';
  return {
    id: claim.id,
    eventId: claim.eventId,
    userId: claim.userId,
    status: claim.status === 'PROCESSING' ? 'PENDING' : claim.status,
    ...(claim.reason !== undefined && { reason: claim.reason }),
    ...(claim.note !== undefined && { note: claim.note }),
    rewards: claim.rewards.map(claimRewardOf),
    createdAt: claim.createdAt.toISOString(),
    ...(decided && claim.decidedAt !== undefined && { decidedAt: claim.decidedAt.toISOString() }),
    ...(decided && claim.decidedBy !== undefined && claim.decidedBy !== SYSTEM_ACTOR && { decidedBy: claim.decidedBy }),
    payout: payoutResponse(claim.payout),
  };
}

/**
 * A claim as its player sees it: the payout without `lastError`, which quotes the game's receiver (its
 * answers, addresses and ports) and is staff's to read (here and at /deliveries).
 */
export function toPlayerClaimResponse(claim: ClaimRecord): ClaimResponseDto {
  const response = toClaimResponse(claim);
  delete response.payout.lastError;
  // A coupon's code is for staff and the game (a shared code is the reward itself): a refused claim would
  // otherwise show it to a player who was never granted it.
  response.rewards = response.rewards.map(withoutCouponCode);
  return response;
}

function payoutResponse(payout: ClaimPayout | undefined): ClaimPayoutResponseDto {
  if (!payout) return { status: 'NOT_REQUIRED', attempts: 0 };
  return {
    status: payout.status,
    attempts: payout.attempts,
    ...(payout.lastAttemptAt && { lastAttemptAt: payout.lastAttemptAt.toISOString() }),
    ...(payout.lastError !== undefined && { lastError: payout.lastError }),
    ...(payout.deliveredAt && { deliveredAt: payout.deliveredAt.toISOString() }),
  };
}

/** A decision's stored document, as a lean read returns it. */
export type StoredDecision = ClaimDecisionEntity & { _id: Types.ObjectId };

export function toDecision(doc: StoredDecision): ClaimDecisionRecord {
  return {
    id: doc._id.toString(),
    claimId: doc.claimId,
    fromStatus: doc.fromStatus,
    toStatus: doc.toStatus,
    ...(doc.reason != null && { reason: doc.reason }),
    ...(doc.note != null && { note: doc.note }),
    decidedBy: doc.decidedBy,
    at: doc.at,
    ...(doc.appliedAt != null && { appliedAt: doc.appliedAt }),
    ...(doc.payoutPending === true && { payoutPending: true, payoutEndpointIds: [...(doc.payoutEndpointIds ?? [])] }),
    ...(doc.confirmPending === true && { confirmPending: true }),
  };
}

/** The stored document of a new decision (absent fields left out). */
export function toDecisionDocument(decision: Omit<ClaimDecisionRecord, 'id'>): StoredDecision {
  return {
    _id: new Types.ObjectId(),
    claimId: decision.claimId,
    fromStatus: decision.fromStatus,
    toStatus: decision.toStatus,
    ...(decision.reason !== undefined && { reason: decision.reason }),
    ...(decision.note !== undefined && { note: decision.note }),
    decidedBy: decision.decidedBy,
    at: decision.at,
    ...(decision.appliedAt !== undefined ? { appliedAt: decision.appliedAt } : { applyPending: true }),
    ...(decision.payoutPending === true && {
      payoutPending: true,
      payoutEndpointIds: [...(decision.payoutEndpointIds ?? [])],
    }),
    ...(decision.confirmPending === true && { confirmPending: true }),
  };
}
