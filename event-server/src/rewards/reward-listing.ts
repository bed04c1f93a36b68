import { Injectable } from '@nestjs/common';
import { StockService } from '../stock/stock.service.js';
import type { RewardRecord } from './reward.js';
import { RewardRepository } from './reward.repository.js';
import type { RewardResponseDto } from './dto/reward-response.dto.js';
import { toRewardResponse } from './reward.mapper.js';

/** An event's rewards as the API shows them, with `remaining` derived from the units taken (stock minus units). */
@Injectable()
export class RewardListing {
  constructor(
    private readonly rewards: RewardRepository,
    private readonly stock: StockService,
  ) {}

  /** `exact`: counted now rather than shared between views (see StockService.takenCounts). */
  async forEvent(eventId: string, options: { exact: boolean }): Promise<RewardResponseDto[]> {
    return this.of(await this.rewards.findByEvent(eventId), options);
  }

  /** These rewards (an event's, in its order) as the API shows them. */
  async of(rewards: readonly RewardRecord[], { exact }: { exact: boolean }): Promise<RewardResponseDto[]> {
    const taken = await this.stock.takenCounts(
      rewards.filter((reward) => reward.stock !== undefined),
      { exact },
    );
    return rewards.map((reward) => toRewardResponse(reward, taken.get(reward.id) ?? 0));
  }
}
