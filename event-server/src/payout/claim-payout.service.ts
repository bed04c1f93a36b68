import { Injectable } from '@nestjs/common';
import { DeliveryRepository } from './delivery.repository.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';
import { payoutOf } from './payout.rules.js';

/**
 * Keeps the claim's payout field (a cached summary) equal to its deliveries. Recomputations of one claim
 * run one after another in this process, so a slower one never overwrites a newer summary.
 */
@Injectable()
export class ClaimPayoutService {
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly outbox: PayoutOutboxRepository,
  ) {}

  refresh(claimId: string): Promise<void> {
    const previous = this.queues.get(claimId) ?? Promise.resolve();
    const run = previous.then(async () => {
      const deliveries = await this.deliveries.findByClaim(claimId);
      await this.outbox.setClaimPayout(claimId, payoutOf(deliveries));
    });
    // The queue holds a promise that never rejects; the caller gets the real outcome.
    const settled: Promise<void> = run.then(
      () => this.forget(claimId, settled),
      () => this.forget(claimId, settled),
    );
    this.queues.set(claimId, settled);
    return run;
  }

  private forget(claimId: string, settled: Promise<void>): void {
    if (this.queues.get(claimId) === settled) this.queues.delete(claimId);
  }
}
