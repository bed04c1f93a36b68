import { describe, expect, it } from 'vitest';
import { type ClaimDecisionRecord, type ClaimRecord, SYSTEM_ACTOR, outcomeOf, settled } from './claim.js';
import { toClaimResponse } from './claim.mapper.js';

/** What the API shows of a claim, after its PROCESSING decision (if any) is taken into account. */
const toClaimView = (claim: ClaimRecord, decision?: ClaimDecisionRecord) => toClaimResponse(settled(claim, decision));

const processing: ClaimRecord = {
  id: 'c1',
  eventId: 'e1',
  userId: 'u1',
  status: 'PROCESSING',
  rewards: [{ rewardId: 'r1', type: 'POINT', name: 'Points', quantity: 5 }],
  slotKey: 'e1:u1',
  idempotencyKey: 'k',
  createdAt: new Date('2025-12-01T00:00:00Z'),
};

describe('toClaimResponse of a settled claim', () => {
  it('never shows PROCESSING: an undecided claim is PENDING, a decided one shows its decision', () => {
    expect(toClaimView(processing).status).toBe('PENDING');
    const decision: ClaimDecisionRecord = {
      id: 'd1',
      claimId: 'c1',
      fromStatus: 'PROCESSING',
      toStatus: 'REJECTED',
      reason: 'OUT_OF_STOCK',
      decidedBy: SYSTEM_ACTOR,
      at: new Date('2025-12-01T00:00:01Z'),
    };
    expect(toClaimView(processing, decision)).toEqual({
      id: 'c1',
      eventId: 'e1',
      userId: 'u1',
      status: 'REJECTED',
      reason: 'OUT_OF_STOCK',
      rewards: processing.rewards,
      createdAt: '2025-12-01T00:00:00.000Z',
      decidedAt: '2025-12-01T00:00:01.000Z',
      payout: { status: 'NOT_REQUIRED', attempts: 0 },
    });
  });

  it('shows payout PENDING as soon as the decision carries webhooks, then what the relay recorded', () => {
    const grant: ClaimDecisionRecord = {
      id: 'd2',
      claimId: 'c1',
      fromStatus: 'PROCESSING',
      toStatus: 'GRANTED',
      decidedBy: SYSTEM_ACTOR,
      at: new Date('2025-12-01T00:00:01Z'),
      payoutPending: true,
      payoutEndpointIds: ['w1'],
    };
    expect(toClaimView(processing, grant).payout).toEqual({ status: 'PENDING', attempts: 0 });
    const delivered = toClaimView({
      ...processing,
      status: 'GRANTED',
      payout: { status: 'DELIVERED', attempts: 2, deliveredAt: new Date('2025-12-01T00:00:03Z') },
    });
    expect(delivered.payout).toEqual({ status: 'DELIVERED', attempts: 2, deliveredAt: '2025-12-01T00:00:03.000Z' });
  });

  it('keeps internal fields out and names a reviewer, not the system', () => {
    const reviewed = toClaimView({
      ...processing,
      status: 'REVOKED',
      note: 'fraud',
      decidedAt: new Date('2025-12-02T00:00:00Z'),
      decidedBy: 'op1',
      releasePending: true,
    });
    expect(reviewed).toMatchObject({ status: 'REVOKED', note: 'fraud', decidedBy: 'op1' });
    expect(Object.keys(reviewed)).not.toEqual(expect.arrayContaining(['slotKey']));
    expect(reviewed).not.toHaveProperty('idempotencyKey');
    expect(reviewed).not.toHaveProperty('releasePending');
    expect(toClaimView({ ...processing, status: 'GRANTED', decidedBy: SYSTEM_ACTOR })).not.toHaveProperty('decidedBy');
  });

  it('shows no decidedAt while a claim waits for review (PENDING), and the review once made', () => {
    const filed = { ...processing, status: 'PENDING' as const, decidedAt: processing.createdAt, decidedBy: SYSTEM_ACTOR };
    expect(toClaimView(filed)).not.toHaveProperty('decidedAt');
    expect(toClaimView(processing)).not.toHaveProperty('decidedAt');
    const approved = toClaimView({ ...filed, status: 'GRANTED', decidedAt: new Date('2025-12-03T00:00:00Z'), decidedBy: 'op1' });
    expect(approved).toMatchObject({ decidedAt: '2025-12-03T00:00:00.000Z', decidedBy: 'op1' });
  });
});

describe('outcomeOf', () => {
  it("is a refusal for the system's rejections (INTERRUPTED as CLAIM_INTERRUPTED), never for a reviewer's or a grant", () => {
    const rejected = (reason: ClaimRecord['reason']): ClaimRecord => ({ ...processing, status: 'REJECTED', reason });
    expect(outcomeOf(rejected('OUT_OF_STOCK')).refusal).toBe('OUT_OF_STOCK');
    expect(outcomeOf(rejected('ALREADY_CLAIMED')).refusal).toBe('ALREADY_CLAIMED');
    expect(outcomeOf(rejected('CONDITION_NOT_MET')).refusal).toBe('CONDITION_NOT_MET');
    expect(outcomeOf(rejected('EVENT_NOT_ACTIVE')).refusal).toBe('EVENT_NOT_ACTIVE');
    expect(outcomeOf(rejected('INTERRUPTED')).refusal).toBe('CLAIM_INTERRUPTED');
    expect(outcomeOf(rejected('REVIEW_REJECTED'))).not.toHaveProperty('refusal');
    expect(outcomeOf({ ...processing, status: 'GRANTED' })).toEqual({ claim: { ...processing, status: 'GRANTED' } });
  });
});
