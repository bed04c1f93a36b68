import { Injectable } from '@nestjs/common';
import { RewardUnitRepository } from './reward-unit.repository.js';
import { freeUnits, nextProbe } from './unit-probe.js';

/** Free units tried per scan round before counting again. */
const SCAN_BATCH = 8;

/** Limited stock as unit documents: taking is an insert a unique index decides, releasing is a delete. */
@Injectable()
export class StockService {
  constructor(private readonly units: RewardUnitRepository) {}

  /**
   * Takes one unit of the reward for the claim; false when every unit is held. Every refused insert means
   * another claim got that unit, so the loop always makes progress and ends at `taken >= stock`.
   * `counted` is the caller's recent count of taken units, which saves the first count.
   */
  async takeUnit(rewardId: string, stock: number, claimId: string, counted?: number): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const taken = attempt === 0 && counted !== undefined ? counted : await this.units.countTaken(rewardId);
      if (taken >= stock) return false;
      const probe = nextProbe(attempt, taken, stock);
      if (probe.kind === 'unit') {
        if (await this.units.tryInsert(rewardId, probe.unit, claimId)) return true;
        continue;
      }
      const candidates = freeUnits(await this.units.takenUnits(rewardId), stock, SCAN_BATCH);
      for (const unit of candidates) {
        if (await this.units.tryInsert(rewardId, unit, claimId)) return true;
      }
    }
  }

  /** Gives back every unit the claim holds (idempotent). */
  release(claimId: string): Promise<number> {
    return this.units.deleteByClaim(claimId);
  }

  heldBy(claimId: string): Promise<number> {
    return this.units.countHeldBy(claimId);
  }

  /** Units taken per reward id. */
  async takenCounts(rewardIds: readonly string[]): Promise<Map<string, number>> {
    const counts = await Promise.all(rewardIds.map(async (id) => [id, await this.units.countTaken(id)] as const));
    return new Map(counts);
  }
}
