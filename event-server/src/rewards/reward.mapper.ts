import { type AuthenticatedUser, Role, hasRequiredRole } from '@reward/server-kit/roles';
import { claimsStaffRole } from '../staff-access/staff-access.rules.js';
import type { RewardRecord } from './reward.js';
import type { RewardEntity } from './reward.schema.js';
import type { RewardResponseDto } from './dto/reward-response.dto.js';

/** A reward's stored document, as a lean read returns it. */
export type StoredReward = RewardEntity & { _id: { toString(): string } };

export function toReward(doc: StoredReward): RewardRecord {
  return {
    id: doc._id.toString(),
    eventId: doc.eventId,
    type: doc.type,
    name: doc.name,
    quantity: doc.quantity,
    ...(doc.stock !== undefined && doc.stock !== null && { stock: doc.stock }),
    ...(doc.itemCode !== undefined && { itemCode: doc.itemCode }),
    ...(doc.couponCode !== undefined && { couponCode: doc.couponCode }),
    ...(doc.claimUnitsOf != null && { unitsOnClaims: true }),
    ...(doc.pendingAudit && { pendingAudit: doc.pendingAudit }),
    createdAt: doc.createdAt,
  };
}

/** A reward as the API shows it: `remaining` is its stock less the units taken (null when unlimited). */
export function toRewardResponse(reward: RewardRecord, unitsTaken: number): RewardResponseDto {
  return {
    id: reward.id,
    eventId: reward.eventId,
    type: reward.type,
    name: reward.name,
    quantity: reward.quantity,
    stock: reward.stock ?? null,
    remaining: reward.stock === undefined ? null : Math.max(0, reward.stock - unitsTaken),
    ...(reward.itemCode !== undefined && { itemCode: reward.itemCode }),
    ...(reward.couponCode !== undefined && { couponCode: reward.couponCode }),
    createdAt: reward.createdAt.toISOString(),
  };
}

/**
 * Whether the caller is shown `remaining` counted at the moment (staff: OPERATOR, AUDITOR, ADMIN, few and
 * reading reports) rather than a count shared between views (everyone else; see TakenCounts).
 */
export function seesExactStock(caller: AuthenticatedUser): boolean {
  return claimsStaffRole(caller.roles);
}

/**
 * The rewards as a caller may see them: a coupon's code only to staff (OPERATOR, AUDITOR, ADMIN). For a
 * shared code the code is the reward itself; the game learns it from the payout webhook, whose claim carries
 * each reward's code. Shown to everyone, any registered player could read every event's codes, inactive and
 * future ones included, without claiming.
 */
export function rewardsFor(caller: AuthenticatedUser, rewards: RewardResponseDto[]): RewardResponseDto[] {
  if (hasRequiredRole(caller.roles, [Role.OPERATOR, Role.AUDITOR])) return rewards;
  return rewards.map(withoutCouponCode);
}

/** A reward as a player sees it (an event's reward, or one a claim gave): without its coupon code (see rewardsFor). */
export function withoutCouponCode<T extends { couponCode?: string }>(reward: T): Omit<T, 'couponCode'> {
  if (reward.couponCode === undefined) return reward;
  const { couponCode: _hidden, ...shown } = reward;
  return shown;
}
