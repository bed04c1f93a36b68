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
