import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { RetryUnder } from '../idempotency/idempotency.rules.js';
import { type ClaimPayout, type PayoutStatus, payoutRecorded } from '../payout/payout.rules.js';
import type { ClaimReason, ClaimStatus } from './claim.state-machine.js';

/** A claim as the event server works with it: every claim request, whatever its outcome. */
export interface ClaimReward {
  rewardId: string;
  type: string;
  name: string;
  quantity: number;
  /** The game's own code for what to give (an ITEM's item, a COUPON's coupon), as the reward had it then. */
  itemCode?: string;
  couponCode?: string;
}

/** A copy of a claim's reward as stored or shown: the codes only where the reward has them. */
export function claimRewardOf(reward: {
  rewardId: string;
  type: string;
  name: string;
  quantity: number;
  itemCode?: string | null;
  couponCode?: string | null;
}): ClaimReward {
  return {
    rewardId: reward.rewardId,
    type: reward.type,
    name: reward.name,
    quantity: reward.quantity,
    ...(reward.itemCode != null && { itemCode: reward.itemCode }),
    ...(reward.couponCode != null && { couponCode: reward.couponCode }),
  };
}

export interface ClaimRecord {
  id: string;
  eventId: string;
  userId: string;
  status: ClaimStatus;
  reason?: ClaimReason;
  note?: string;
  rewards: ClaimReward[];
  slotKey: string;
  idempotencyKey?: string;
  createdAt: Date;
  decidedAt?: Date;
  decidedBy?: string;
  releasePending?: boolean;
  payout?: ClaimPayout;
  /**
   * The unit this claim holds of its event's claim-held reward (see RewardRecord.unitsOnClaims): taken by
   * the claim's own insert, given back by the decision that releases its stock.
   */
  unit?: ClaimUnit;
}

/** A unit of a limited reward recorded on the claim that holds it. */
export interface ClaimUnit {
  rewardId: string;
  unit: number;
}

/** The unique key of a unit held on a claim. */
export function unitKeyOf(rewardId: string, unit: number): string {
  return `${rewardId}:${unit}`;
}

/** The unit number in a unit key of the reward (the inverse of unitKeyOf). */
export function unitNumberOf(unitKey: string, rewardId: string): number {
  return Number(unitKey.slice(rewardId.length + 1));
}

/**
 * A claim as it is inserted. A claim born decided (no limited reward to take first) carries the payout
 * outbox of its decision itself: the endpoints subscribed to it when it was made (see PayoutOutbox).
 */
export type NewClaim = ClaimRecord & { payoutEndpointIds?: string[] };

export interface ClaimFilter {
  userId?: string;
  eventId?: string;
  status?: ClaimStatus;
  payoutStatus?: PayoutStatus;
  from?: Date;
  to?: Date;
}

/** The fields a decision writes onto the claim. */
export interface ClaimProjection {
  status: ClaimStatus;
  reason?: ClaimReason;
  note?: string;
  decidedAt: Date;
  decidedBy?: string;
  slotKey?: string;
  releasePending?: boolean;
  /** The decision gives the claim's stock back: the unit it holds on itself goes with the same write. */
  freeUnit?: boolean;
  /** Set when the decision has webhooks to send: the claim shows payout PENDING from its first answer. */
  payout?: ClaimPayout;
}

/** One transition of a claim; unique on (claimId, fromStatus), so exactly one decision wins. */
export interface ClaimDecisionRecord {
  id: string;
  claimId: string;
  fromStatus: ClaimStatus;
  toStatus: ClaimStatus;
  reason?: ClaimReason;
  note?: string;
  decidedBy: string;
  at: Date;
  appliedAt?: Date;
  payoutPending?: boolean;
  payoutEndpointIds?: string[];
  /** To be projected once more by the reconciler (a reviewer's decision; see ClaimDecisionEntity). */
  confirmPending?: boolean;
}

/** Who decided when no person did (automatic grants, system rejections, the reconciler). */
export const SYSTEM_ACTOR = 'system';

export function newClaimId(): string {
  return new Types.ObjectId().toString();
}

/**
 * The id of the claim a request with an Idempotency-Key records: the same for every run under one use of
 * the key (`lineage`, an ObjectId: IdempotencyRecord.lineage), a run that took the key over from an owner
 * judged dead included. So when that owner was only stalled (a long pause, a frozen VM) and wakes up to
 * record its own claim, the unique `_id` refuses the second claim, and each run answers with the one that
 * was recorded first: never a grant under a key that answers a refusal, nor two claims for one key. An
 * ObjectId still: the time of the key's first use, then 8 bytes of a hash of the user, the key and the use.
 */
export function keyedClaimId(userId: string, key: string, lineage: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([userId, key, lineage]))
    .digest('hex');
  return new Types.ObjectId(`${lineage.slice(0, 8)}${digest.slice(0, 16)}`).toString();
}

/**
 * The claim as it stands: a claim still PROCESSING whose decision is already made (its projection has
 * not landed yet) is what that decision made of it.
 */
export function settled(claim: ClaimRecord, processingDecision?: ClaimDecisionRecord): ClaimRecord {
  if (claim.status !== 'PROCESSING' || !processingDecision) return claim;
  const { reason: _reason, decidedBy: _decidedBy, ...rest } = claim;
  return {
    ...rest,
    status: processingDecision.toStatus,
    ...(processingDecision.reason !== undefined && { reason: processingDecision.reason }),
    decidedAt: processingDecision.at,
    decidedBy: processingDecision.decidedBy,
    ...(!claim.payout && processingDecision.payoutPending && { payout: payoutRecorded() }),
  };
}

/** Why a claim request was refused (its claim is recorded as REJECTED), or that it was interrupted. */
export type ClaimRefusal = 'EVENT_NOT_ACTIVE' | 'CONDITION_NOT_MET' | 'OUT_OF_STOCK' | 'ALREADY_CLAIMED' | 'CLAIM_INTERRUPTED';

/** What a claim request comes to: the recorded claim, and the refusal when it was refused. */
export interface ClaimOutcome {
  claim: ClaimRecord;
  refusal?: ClaimRefusal;
}

const REFUSAL_OF: Partial<Record<ClaimReason, ClaimRefusal>> = {
  EVENT_NOT_ACTIVE: 'EVENT_NOT_ACTIVE',
  CONDITION_NOT_MET: 'CONDITION_NOT_MET',
  OUT_OF_STOCK: 'OUT_OF_STOCK',
  ALREADY_CLAIMED: 'ALREADY_CLAIMED',
  // Only when the request lost to the reconciler (it took longer than the stale limit): safe to retry.
  INTERRUPTED: 'CLAIM_INTERRUPTED',
};

/** A finished claim's outcome. A reviewer's rejection is not a refusal of the request: it was answered. */
export function outcomeOf(claim: ClaimRecord): ClaimOutcome {
  const refusal = claim.status === 'REJECTED' && claim.reason !== undefined ? REFUSAL_OF[claim.reason] : undefined;
  return refusal ? { claim, refusal } : { claim };
}

/**
 * What a claim request with an Idempotency-Key recorded, judged from the newest claim carrying the key:
 * its outcome once that claim is settled; 'wait' while it is PROCESSING; 'forget' when the request recorded
 * no claim; RetryUnder when the reconciler rejected it as INTERRUPTED (the client is to retry: a new claim).
 */
export function recordedOutcomeOf(claim: ClaimRecord | undefined): ClaimOutcome | 'wait' | 'forget' | RetryUnder {
  if (!claim) return 'forget';
  // The next use records under the interrupted claim's id: every request taking the key over agrees on it.
  if (claim.status === 'REJECTED' && claim.reason === 'INTERRUPTED') return new RetryUnder(claim.id);
  if (claim.status === 'PROCESSING') return 'wait';
  return outcomeOf(claim);
}
