import type { ClaimReward } from '../claims/claim.js';

/**
 * One transition whose webhooks are not recorded yet: a claim decision marked payoutPending, or a claim
 * born decided (`source: 'claim'`, decisionId = the claim's id: it is its own first decision).
 */
export interface OutboxEntry {
  source: 'decision' | 'claim';
  decisionId: string;
  claimId: string;
  toStatus: string;
  /** The status a decision moved the claim out of (none for a claim born decided). */
  fromStatus?: string;
  reason?: string;
  note?: string;
  decidedBy: string;
  at: Date;
  applied: boolean;
  endpointIds: string[];
}

/** What a webhook's payload needs of its claim. */
export interface PayoutClaim {
  id: string;
  eventId: string;
  userId: string;
  status: string;
  rewards: ClaimReward[];
  createdAt: Date;
}
