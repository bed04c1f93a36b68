import { describe, expect, it } from 'vitest';
import { CLAIM_STATUSES, type ClaimAction, holdsSlot, holdsStock, releasesStock, transitionFor } from './claim.state-machine.js';

describe('claim state machine', () => {
  const allowed: Array<[ClaimAction, string, string]> = [
    ['GRANT', 'PROCESSING', 'GRANTED'],
    ['HOLD_FOR_REVIEW', 'PROCESSING', 'PENDING'],
    ['FAIL', 'PROCESSING', 'REJECTED'],
    ['APPROVE', 'PENDING', 'GRANTED'],
    ['REJECT', 'PENDING', 'REJECTED'],
    ['REVOKE', 'GRANTED', 'REVOKED'],
  ];

  it('allows exactly the listed transitions, from exactly one status each', () => {
    for (const [action, from, to] of allowed) {
      for (const status of CLAIM_STATUSES) {
        const transition = transitionFor(action, status);
        if (status === from) expect(transition, `${action} from ${status}`).toEqual({ from, to });
        else expect(transition, `${action} from ${status}`).toBeUndefined();
      }
    }
  });

  it('refuses review actions on final claims: approving a GRANTED claim, revoking a REVOKED one', () => {
    expect(transitionFor('APPROVE', 'GRANTED')).toBeUndefined();
    expect(transitionFor('REJECT', 'GRANTED')).toBeUndefined();
    expect(transitionFor('REVOKE', 'REVOKED')).toBeUndefined();
    expect(transitionFor('REVOKE', 'PENDING')).toBeUndefined();
    expect(transitionFor('APPROVE', 'REJECTED')).toBeUndefined();
  });

  it('keeps the slot for reviewer decisions and frees it for system rejections', () => {
    expect(holdsSlot('GRANTED')).toBe(true);
    expect(holdsSlot('PENDING')).toBe(true);
    expect(holdsSlot('PROCESSING')).toBe(true);
    expect(holdsSlot('REVOKED')).toBe(true);
    expect(holdsSlot('REJECTED', 'REVIEW_REJECTED')).toBe(true);
    for (const reason of ['EVENT_NOT_ACTIVE', 'CONDITION_NOT_MET', 'OUT_OF_STOCK', 'ALREADY_CLAIMED', 'INTERRUPTED'] as const) {
      expect(holdsSlot('REJECTED', reason), reason).toBe(false);
    }
  });

  it('holds stock only while granted, pending or in flight, and gives it back on reject and revoke', () => {
    expect(CLAIM_STATUSES.filter(holdsStock)).toEqual(['PROCESSING', 'GRANTED', 'PENDING']);
    expect(CLAIM_STATUSES.filter(releasesStock)).toEqual(['REJECTED', 'REVOKED']);
  });
});
