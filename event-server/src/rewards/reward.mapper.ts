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
