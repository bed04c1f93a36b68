import { DomainError } from '@reward/server-kit/errors';
import { EventErrorCode } from '../events/event.errors.js';
import type { RewardType } from './reward.schema.js';

/** A reward type with its article, as a message says it ("an ITEM reward", "a POINT reward"). */
function aReward(type: RewardType): string {
  return `${type === 'ITEM' ? 'an' : 'a'} ${type} reward`;
}

/** itemCode belongs to ITEM rewards and couponCode to COUPON rewards: required there, refused elsewhere. */
export function checkRewardCodes(input: { type: RewardType; itemCode?: string; couponCode?: string }): void {
  const problems: string[] = [];
  if (input.type === 'ITEM' && !input.itemCode) problems.push(`itemCode is required for ${aReward('ITEM')}`);
  if (input.type !== 'ITEM' && input.itemCode !== undefined) problems.push(`itemCode is not allowed for ${aReward(input.type)}`);
  if (input.type === 'COUPON' && !input.couponCode) problems.push(`couponCode is required for ${aReward('COUPON')}`);
  if (input.type !== 'COUPON' && input.couponCode !== undefined)
    problems.push(`couponCode is not allowed for ${aReward(input.type)}`);
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
