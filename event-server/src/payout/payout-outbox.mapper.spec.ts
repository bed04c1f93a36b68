import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../claims/claim.js';
import { type StoredOutboxClaim, claimOutboxEntry } from './payout-outbox.mapper.js';

const createdAt = new Date('2026-12-04T03:00:00.000Z');
const claim = (fields: Partial<StoredOutboxClaim>): StoredOutboxClaim => ({
  _id: { toString: () => '64b7f0c2a1b2c3d4e5f60718' },
  status: 'GRANTED',
  createdAt,
  payoutEndpointIds: ['e1'],
  ...fields,
});

describe('claimOutboxEntry', () => {
  it('announces the status the claim was born with, decided by the system when it was made', () => {
    for (const [bornStatus, status, decidedBy] of [
      ['PENDING', 'GRANTED', 'operator-1'],
      ['PENDING', 'REJECTED', 'operator-1'],
      ['GRANTED', 'REVOKED', 'operator-1'],
      ['GRANTED', 'GRANTED', SYSTEM_ACTOR],
      ['PENDING', 'PENDING', SYSTEM_ACTOR],
    ] as const) {
      expect(claimOutboxEntry(claim({ bornStatus, status, decidedBy }))).toEqual({
        source: 'claim',
        decisionId: '64b7f0c2a1b2c3d4e5f60718',
        claimId: '64b7f0c2a1b2c3d4e5f60718',
        toStatus: bornStatus,
        decidedBy: SYSTEM_ACTOR,
        at: createdAt,
        applied: true,
        endpointIds: ['e1'],
      });
    }
  });

  it('infers the born status of a claim recorded before it was written, from where the claim is now', () => {
    const born = (status: StoredOutboxClaim['status'], decidedBy?: string) =>
      claimOutboxEntry(claim({ status, ...(decidedBy !== undefined && { decidedBy }) })).toStatus;
    expect(born('GRANTED', SYSTEM_ACTOR)).toBe('GRANTED');
    expect(born('GRANTED', 'operator-1')).toBe('PENDING');
    expect(born('PENDING', SYSTEM_ACTOR)).toBe('PENDING');
    expect(born('REJECTED', 'operator-1')).toBe('PENDING');
    // Refused when it was made: born REJECTED, which no webhook announces.
    expect(born('REJECTED', SYSTEM_ACTOR)).toBe('REJECTED');
    expect(born('REJECTED')).toBe('REJECTED');
    expect(born('REVOKED', 'operator-1')).toBe('GRANTED');
  });
});
