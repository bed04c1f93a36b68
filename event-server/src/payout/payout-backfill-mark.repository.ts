import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import { PayoutBackfillMarkEntity } from './payout-backfill-mark.schema.js';

/** The payout back-fill's marks (PayoutBackfillMarkEntity): how far it has covered each enabling of an endpoint. */
@Injectable()
export class PayoutBackfillMarkRepository {
  constructor(@InjectModel(PayoutBackfillMarkEntity.name) private readonly marks: Model<PayoutBackfillMarkEntity>) {}

  /** How far the back-fill has covered this enabling of the endpoint (undefined: no pass completed yet). */
  async coveredUntil(endpointId: string, enabledAt: Date): Promise<Date | undefined> {
    const docs = await this.marks.find({ endpointId }).lean<PayoutBackfillMarkEntity[]>().exec();
    let latest: Date | undefined;
    for (const doc of docs) {
      if (doc.enabledAt.getTime() !== enabledAt.getTime()) continue;
      if (!latest || doc.coveredUntil.getTime() > latest.getTime()) latest = doc.coveredUntil;
    }
    return latest;
  }

  /**
   * Records that this enabling of the endpoint is covered until `coveredUntil` (an insert; the same mark twice is
   * refused, harmlessly), then removes the endpoint's lower marks and those of its earlier enablings.
   */
  async advance(endpointId: string, enabledAt: Date, coveredUntil: Date, at: Date): Promise<void> {
    const _id = `${endpointId}:${enabledAt.getTime()}:${coveredUntil.getTime()}`;
    const doc = { _id, endpointId, enabledAt, coveredUntil, at };
    await insertEach(() => this.marks.collection.insertOne(doc as never), 1);
    await this.marks
      .deleteMany({
        endpointId,
        $or: [{ enabledAt: { $lt: enabledAt } }, { enabledAt, coveredUntil: { $lt: coveredUntil } }],
      })
      .exec();
  }
}
