import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { keyedClaimId } from './claim.js';

describe('keyedClaimId', () => {
  const lineage = new Types.ObjectId().toString();

  it('is one ObjectId per (user, key, use of the key), dated by the use', () => {
    const id = keyedClaimId('user-1', 'k-1', lineage);
    expect(Types.ObjectId.isValid(id)).toBe(true);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(keyedClaimId('user-1', 'k-1', lineage)).toBe(id);
    expect(new Types.ObjectId(id).getTimestamp()).toEqual(new Types.ObjectId(lineage).getTimestamp());
  });

  it('differs when the user, the key or the use differs (no field runs into the next)', () => {
    const id = keyedClaimId('user-1', 'k-1', lineage);
    const others = [
      keyedClaimId('user-2', 'k-1', lineage),
      keyedClaimId('user-1', 'k-2', lineage),
      keyedClaimId('user-1', 'k-1', new Types.ObjectId().toString()),
    ];
    expect(new Set([id, ...others]).size).toBe(4);
    expect(keyedClaimId('user-1\nk', '1', lineage)).not.toBe(keyedClaimId('user-1', 'k\n1', lineage));
  });
});
