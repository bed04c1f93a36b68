import type { RewardRecord } from './reward.repository.js';

export interface RewardView {
  id: string;
  eventId: string;
  type: string;
  name: string;
  quantity: number;
  /** Total grants; null = unlimited. */
  stock: number | null;
  /** Grants still available (stock minus units taken); null = unlimited. */
  remaining: number | null;
  itemCode?: string;
  couponCode?: string;
  createdAt: string;
}

export function toRewardView(reward: RewardRecord, unitsTaken: number): RewardView {
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
