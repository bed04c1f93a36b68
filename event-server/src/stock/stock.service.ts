import { Inject, Injectable } from '@nestjs/common';
import { withinStoreTime } from '@reward/server-kit/list-read';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import type { RewardRecord } from '../rewards/reward.js';
import { ClaimUnitRepository } from './claim-unit.repository.js';
import { RewardUnitRepository } from './reward-unit.repository.js';
import { TakenCounts } from './taken-counts.js';
import { type TakeResult, UnitAllocator, type UnitAttempt } from './unit-allocator.js';

export const COUNT_TOO_SLOW_MESSAGE =
  "Counting a reward's taken units took longer than the server spends on one read (LIST_READ_MAX_MS); nothing was " +
  'changed: try again later';

/**
 * Limited stock as units a unique index decides. A reward's units are recorded in one place for good: on
 * the claims (`unitKey`) for the claim-held reward of an event (RewardRecord.unitsOnClaims), as
 * `reward_units` documents for the others. Taking is an insert, releasing a delete or the claim's projection.
 */
@Injectable()
export class StockService {
  private readonly documents: UnitAllocator;
  private readonly onClaims: UnitAllocator;
  /** The counts behind `remaining`, shared between views (see TakenCounts). */
  private readonly documentCounts: TakenCounts;
  private readonly claimCounts: TakenCounts;
  /** The store's time a count for `remaining` may take (LIST_READ_MAX_MS): past it, the view is answered 503. */
  private readonly countMaxMs: number;

  constructor(
    private readonly units: RewardUnitRepository,
    private readonly claimUnits: ClaimUnitRepository,
    @Inject(EVENT_CONFIG) config: EventConfig,
  ) {
    const options = { soldOutTtlMs: config.claims.soldOutTtlMs, maxCollisions: 4 };
    this.documents = new UnitAllocator(units, options);
    this.onClaims = new UnitAllocator(claimUnits, options);
    this.countMaxMs = config.lists.readMaxMs;
    // As long as the event itself is cached (CLAIM_CATALOG_TTL_MS): the rewards are shown with it.
    this.documentCounts = new TakenCounts((rewardId) => this.boundedCount(units, rewardId), config.claims.catalogTtlMs);
    this.claimCounts = new TakenCounts((rewardId) => this.boundedCount(claimUnits, rewardId), config.claims.catalogTtlMs);
  }

  /** True while this process believes every unit of the reward is held (no store command). */
  believedSoldOut(reward: RewardRecord): boolean {
    return this.allocatorOf(reward).isSoldOut(reward.id, reward.stock!);
  }

  /** Takes one `reward_units` unit of the reward for the claim; false when every unit is held. Never counts the taken units. */
  async takeUnit(reward: RewardRecord, claimId: string): Promise<boolean> {
    const taken = await this.documents.take(reward.id, reward.stock!, async (unit) =>
      (await this.units.tryInsert(reward.id, unit, claimId)) ? 'TAKEN' : 'HELD',
    );
    if (typeof taken !== 'number') return false;
    this.documentCounts.took([reward.id]);
    return true;
  }

  /**
   * Takes one unit of a claim-held reward, each attempt being the insert of the claim that carries it
   * (see UnitAttempt): the unit number, SOLD_OUT, or STOPPED when an attempt said so.
   */
  async takeOnClaim(reward: RewardRecord, attempt: (unit: number) => Promise<UnitAttempt>): Promise<TakeResult> {
    const taken = await this.onClaims.take(reward.id, reward.stock!, attempt);
    if (typeof taken === 'number') this.claimCounts.took([reward.id]);
    return taken;
  }

  /**
   * Gives back every `reward_units` unit the claim holds (idempotent; the unit a claim holds on itself goes
   * with its projection), then reopens `rewardIds`, the rewards given back.
   */
  async release(claimId: string, rewardIds: readonly string[] = []): Promise<number> {
    const released = await this.units.deleteByClaim(claimId);
    this.reopened(rewardIds);
    return released;
  }

  /** Units of these rewards were given back: this process looks again instead of believing them sold out. */
  reopened(rewardIds: readonly string[]): void {
    for (const rewardId of rewardIds) {
      this.documents.released(rewardId);
      this.onClaims.released(rewardId);
    }
    this.documentCounts.changed(rewardIds);
    this.claimCounts.changed(rewardIds);
  }

  /**
   * Units taken per limited reward, for an event's `remaining` (never on the claim path): counted now when
   * `exact` (staff's reports), else shared between concurrent views and reused for a short time (see TakenCounts).
   */
  async takenCounts(rewards: readonly RewardRecord[], { exact }: { exact: boolean }): Promise<Map<string, number>> {
    const counts = await Promise.all(
      rewards.map(async (reward) => {
        const [store, shared] = reward.unitsOnClaims ? [this.claimUnits, this.claimCounts] : [this.units, this.documentCounts];
        return [reward.id, await (exact ? this.boundedCount(store, reward.id) : shared.get(reward.id))] as const;
      }),
    );
    return new Map(counts);
  }

  /**
   * A count for `remaining`, stopped by the store past LIST_READ_MAX_MS (503 with Retry-After): it reads every
   * unit taken, so without a bound a count the store could not finish held its views (and the shared count
   * every later view waits for) for as long as it ran.
   */
  private boundedCount(store: RewardUnitRepository | ClaimUnitRepository, rewardId: string): Promise<number> {
    return withinStoreTime(store.countTaken(rewardId, this.countMaxMs), COUNT_TOO_SLOW_MESSAGE);
  }

  private allocatorOf(reward: RewardRecord): UnitAllocator {
    return reward.unitsOnClaims ? this.onClaims : this.documents;
  }
}
