import { DomainError } from '@reward/server-kit/errors';
import { EventErrorCode } from '../events/event.errors.js';
import type { RewardType } from './reward.schema.js';

/** itemCode belongs to ITEM rewards and couponCode to COUPON rewards: required there, refused elsewhere. */
export function checkRewardCodes(input: { type: RewardType; itemCode?: string; couponCode?: string }): void {
  const problems: string[] = [];
  if (input.type === 'ITEM' && !input.itemCode) problems.push('itemCode is required for an ITEM reward');
  if (input.type !== 'ITEM' && input.itemCode !== undefined) problems.push(`itemCode is not allowed for a ${input.type} reward`);
  if (input.type === 'COUPON' && !input.couponCode) problems.push('couponCode is required for a COUPON reward');
  if (input.type !== 'COUPON' && input.couponCode !== undefined)
    problems.push(`couponCode is not allowed for a ${input.type} reward`);
  if (problems.length > 0) throw new DomainError(400, EventErrorCode.INVALID_REWARD, problems);
}

/**
 * A change of a reward's stock: raised only, and only for a limited reward (units granted stay granted, and
 * counting them is what the claim path never does); 400 INVALID_REWARD otherwise.
 */
export function checkStockChange(current: number | undefined, next: number | undefined): void {
  if (next === undefined) return;
  if (current === undefined) {
    throw new DomainError(400, EventErrorCode.INVALID_REWARD, [
      'stock: this reward is unlimited and stays so (add a limited reward instead)',
    ]);
  }
  if (next < current) {
    throw new DomainError(400, EventErrorCode.INVALID_REWARD, [
      `stock may only be raised: it is ${current} (units granted stay granted)`,
    ]);
  }
}
