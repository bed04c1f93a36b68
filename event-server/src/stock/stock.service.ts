import { Inject, Injectable } from '@nestjs/common';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { RewardUnitRepository } from './reward-unit.repository.js';
import { UnitAllocator } from './unit-allocator.js';

/** Limited stock as unit documents: taking is an insert a unique index decides, releasing is a delete. */
@Injectable()
export class StockService {
  private readonly allocator: UnitAllocator;

  constructor(
    private readonly units: RewardUnitRepository,
    @Inject(EVENT_CONFIG) config: EventConfig,
  ) {
    this.allocator = new UnitAllocator(units, { soldOutTtlMs: config.claims.soldOutTtlMs, maxCollisions: 4 });
  }

  /** True while this process believes every unit of the reward is held (no store command). */
  believedSoldOut(rewardId: string): boolean {
    return this.allocator.isSoldOut(rewardId);
  }

  /** Takes one unit of the reward for the claim; false when every unit is held. Never counts the taken units. */
  takeUnit(rewardId: string, stock: number, claimId: string): Promise<boolean> {
    return this.allocator.take(rewardId, stock, claimId);
  }

  /** Gives back every unit the claim holds (idempotent). */
  async release(claimId: string, rewardIds: readonly string[] = []): Promise<number> {
    const released = await this.units.deleteByClaim(claimId);
    if (released > 0) for (const rewardId of rewardIds) this.allocator.released(rewardId);
    return released;
  }

  /** Units taken per reward id (for reports such as an event's `remaining`; never on the claim path). */
  async takenCounts(rewardIds: readonly string[]): Promise<Map<string, number>> {
    const counts = await Promise.all(rewardIds.map(async (id) => [id, await this.units.countTaken(id)] as const));
    return new Map(counts);
  }
}
