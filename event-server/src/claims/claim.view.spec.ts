import { describe, expect, it } from 'vitest';
import type { ClaimDecisionRecord } from './claim-decision.repository.js';
import type { ClaimRecord } from './claim.repository.js';
import { SYSTEM_ACTOR, toClaimView } from './claim.view.js';

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

describe('toClaimView', () => {
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
    });
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
});
