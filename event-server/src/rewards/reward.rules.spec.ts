import { DomainError } from '@reward/server-kit/errors';
import { describe, expect, it } from 'vitest';
import { checkRewardCodes } from './reward.rules.js';

function problemsOf(input: Parameters<typeof checkRewardCodes>[0]): string[] {
  try {
    checkRewardCodes(input);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return [(error as DomainError).messages].flat();
  }
}

describe('reward codes', () => {
  it('names the reward type with its article: an ITEM, a POINT, a COUPON, a CURRENCY', () => {
    // A coupon code on an item reward (PATCH keeps the type) was told "not allowed for a ITEM reward".
    expect(problemsOf({ type: 'ITEM', itemCode: 'SWORD', couponCode: 'X' })).toEqual([
      'couponCode is not allowed for an ITEM reward',
    ]);
    expect(problemsOf({ type: 'POINT', itemCode: 'SWORD' })).toEqual(['itemCode is not allowed for a POINT reward']);
    expect(problemsOf({ type: 'COUPON', couponCode: 'C-1', itemCode: 'S' })).toEqual([
      'itemCode is not allowed for a COUPON reward',
    ]);
    expect(problemsOf({ type: 'CURRENCY', couponCode: 'C-1' })).toEqual(['couponCode is not allowed for a CURRENCY reward']);
    expect(problemsOf({ type: 'ITEM' })).toEqual(['itemCode is required for an ITEM reward']);
    expect(problemsOf({ type: 'COUPON', couponCode: 'C-1' })).toEqual([]);
  });
});
