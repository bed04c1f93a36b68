import { Injectable } from '@nestjs/common';

/**
 * Re-derives a claim's payout summary from its delivery records (the payout module supplies how: it imports the
 * claims module, not the other way round). A projection writes `payout` from a copy of its decision (PENDING while
 * its webhooks are not recorded yet); a copy read before the relay recorded and sent them, or a read-then-write
 * update (FerretDB) that read the claim before the relay's summary, writes an old summary over the relay's, and no
 * delivery changes afterwards to write it again. Whoever wrote such a payout asks for it to be derived again.
 */
@Injectable()
export class PayoutSummaries {
  private resettleWith?: (claimId: string) => Promise<void>;

  provide(resettle: (claimId: string) => Promise<void>): void {
    this.resettleWith = resettle;
  }

  /** The claim's payout as its deliveries leave it, unless one of its transitions still awaits its deliveries. */
  async resettle(claimId: string): Promise<void> {
    await this.resettleWith?.(claimId);
  }
}
