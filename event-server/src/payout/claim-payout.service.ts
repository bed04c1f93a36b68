import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { PayoutSummaries } from '../claims/payout-summaries.js';
import { DeliveryRepository } from './delivery.repository.js';
import { fewAtATime } from './few-at-a-time.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';
import { type ClaimPayout, payoutOf } from './payout.rules.js';

/** A summary lease older than this belongs to a process that died while recomputing (it takes milliseconds). */
const SUMMARY_LEASE_LAPSE_MS = 30_000;
/** How soon a summary another process was recomputing is tried again. */
const DEFERRED_RETRY_MS = 50;
/** How often the relay looks for summary leases whose holder died (see sweep). */
export const SUMMARY_SWEEP_MS = 30_000;

/**
 * Keeps the claim's payout field (a cached summary) equal to its deliveries, recomputed from all of them
 * after every change. Concurrent recomputations of one claim (two replicas finishing its two deliveries)
 * could leave the slower one's older summary last; so each recomputation holds the claim's summary lease
 * (a unique insert), and a change whose recomputation finds the lease taken recomputes again once it is
 * free: the summary written last was always read after the last change.
 */
@Injectable()
export class ClaimPayoutService implements OnModuleDestroy {
  private readonly logger = new Logger(ClaimPayoutService.name);
  private readonly deferred = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly outbox: PayoutOutboxRepository,
    summaries: PayoutSummaries,
  ) {
    summaries.provide((claimId) => this.resettle(claimId));
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Recomputes the summaries of these claims: one lease insert, a read per claim, the writes, one release.
   * `change` (the deliveries' own writes) runs once the leases are taken, so a process that dies between
   * changing deliveries and writing their summaries leaves the lease behind, and the sweep finds it.
   */
  async refresh(claimIds: Iterable<string>, change?: () => Promise<void>): Promise<void> {
    const ids = [...new Set([...claimIds, ...this.deferred])];
    this.deferred.clear();
    if (ids.length === 0) {
      await change?.();
      return;
    }
    const at = new Date();
    let won: boolean[];
    try {
      won = await this.outbox.trySummaryLeases(ids, at);
    } catch (error) {
      this.defer(ids);
      throw error;
    }
    const mine = ids.filter((_id, index) => won[index]);
    const busy = ids.filter((_id, index) => !won[index]);
    try {
      await change?.();
      const summaries = await fewAtATime(mine, async (id): Promise<[string, ClaimPayout]> => [
        id,
        payoutOf(await this.deliveries.findByClaim(id)),
      ]);
      await this.outbox.setClaimPayouts(new Map(summaries));
    } catch (error) {
      this.defer(mine);
      throw error;
    } finally {
      await this.outbox.releaseSummaryLeases(mine.map((claimId) => ({ claimId })));
    }
    if (busy.length > 0) {
      this.defer(busy);
      const taken = await this.outbox.summaryLeasesTakenAt(busy);
      const lapsed = [...taken].filter(([, takenAt]) => at.getTime() - takenAt.getTime() > SUMMARY_LEASE_LAPSE_MS);
      await this.outbox.releaseSummaryLeases(lapsed.map(([claimId, takenAt]) => ({ claimId, at: takenAt })));
    }
  }

  /**
   * After a write of the claim's payout that did not come from its deliveries (a projection's PENDING from a copy of
   * its decision, or a whole-document update that may have put an old summary back): recomputes the summary, unless
   * a transition of the claim has no delivery recorded yet. That one's deliveries are then recorded after this look,
   * so after the write, and their attempts recompute it. The outbox is read before the deliveries: an entry the
   * relay is recording (deliveries inserted, mark not cleared yet) counts as recorded.
   */
  async resettle(claimId: string): Promise<void> {
    const awaiting = await this.outbox.awaitingOf(claimId);
    if (awaiting.length > 0) {
      const recorded = new Set((await this.deliveries.findByClaim(claimId)).map((delivery) => delivery.decisionId));
      if (awaiting.some((id) => !recorded.has(id))) return;
    }
    await this.refresh([claimId]);
  }

  /**
   * Summaries whose recomputation a dead process left unfinished (its lease older than the lapse):
   * the lease is removed and the summary recomputed. The lease collection holds only recomputations
   * in flight, so this read is small.
   */
  async sweep(now = new Date()): Promise<number> {
    const lapsed = await this.outbox.summaryLeasesTakenBefore(new Date(now.getTime() - SUMMARY_LEASE_LAPSE_MS));
    if (lapsed.size === 0) return 0;
    await this.outbox.releaseSummaryLeases([...lapsed].map(([claimId, at]) => ({ claimId, at })));
    await this.refresh(lapsed.keys());
    return lapsed.size;
  }

  private defer(ids: readonly string[]): void {
    for (const id of ids) this.deferred.add(id);
    if (this.stopped || this.timer || this.deferred.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh([]).catch((error: unknown) => this.logger.warn(`Payout summary refresh failed: ${String(error)}`));
    }, DEFERRED_RETRY_MS);
    this.timer.unref();
  }
}
