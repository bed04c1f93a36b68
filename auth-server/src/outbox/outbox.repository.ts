import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types, trusted } from 'mongoose';
import type { NewOutboxMessage, OutboxMessage } from './outbox-message.js';
import { toOutboxMessage } from './outbox.mapper.js';
import { OutboxEntity } from './outbox.schema.js';

export interface RetrySchedule {
  id: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string;
}

const PENDING = { deliveredAt: null, failedAt: null } as const;

/** Operators are wrapped in `trusted()`: the connection sanitises filters (sanitizeFilter) against injection. */
@Injectable()
export class OutboxRepository implements OnModuleInit {
  constructor(@InjectModel(OutboxEntity.name) private readonly model: Model<OutboxEntity>) {}

  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  newId(): string {
    return new Types.ObjectId().toHexString();
  }

  /** Due at once: the relay picks it up at its next poll. */
  async insert(message: NewOutboxMessage): Promise<void> {
    await this.model.create({
      _id: new Types.ObjectId(message.id),
      kind: message.kind,
      payload: { ...message.payload },
      createdAt: message.createdAt,
      attempts: 0,
      nextAttemptAt: message.createdAt,
      leasedBy: null,
      deliveredAt: null,
      failedAt: null,
      lastError: null,
    });
  }

  /** Whether the row is stored (delivered or not). */
  async exists(id: string): Promise<boolean> {
    return (await this.model.exists({ _id: toObjectId(id) }).exec()) !== null;
  }

  /**
   * Takes up to `limit` due rows for `leaseUntil`: a plain update marks them with this take's token, and a
   * re-read returns the rows that still carry it. Two relays racing on FerretDB's read-then-write update
   * can both believe they won a row; that only means one harmless duplicate send (externalId dedupes).
   * Due access notices (a demotion, a log-out everywhere) are taken first, whatever waits before them: the
   * event server's bound on a demoted operator's token rests on them, and a launch's logins (thousands of
   * activity rows, taken oldest first) held one back for seconds while the old token still approved claims.
   */
  async lease(now: Date, limit: number, token: string, leaseUntil: Date): Promise<OutboxMessage[]> {
    const dueFilter = { ...PENDING, nextAttemptAt: trusted({ $lte: now }) };
    const dueIds = (filter: Record<string, unknown>, count: number) =>
      this.model
        .find(filter)
        .sort({ nextAttemptAt: 1 })
        .limit(count)
        .select({ _id: 1 })
        .lean<Array<Pick<OutboxEntity, '_id'>>>()
        .exec();
    const notices = await dueIds({ ...dueFilter, kind: 'ACCESS' }, limit);
    const others =
      notices.length < limit ? await dueIds({ ...dueFilter, kind: trusted({ $ne: 'ACCESS' }) }, limit - notices.length) : [];
    const ids = [...notices, ...others].map((row) => row._id);
    if (ids.length === 0) return [];
    await this.model
      .updateMany(
        { _id: trusted({ $in: ids }), ...PENDING, nextAttemptAt: trusted({ $lte: now }) },
        { $set: { nextAttemptAt: leaseUntil, leasedBy: token } },
      )
      .exec();
    const taken = await this.model
      .find({ _id: trusted({ $in: ids }), leasedBy: token, ...PENDING })
      .sort({ nextAttemptAt: 1, _id: 1 })
      .lean<OutboxEntity[]>()
      .exec();
    return taken.map(toOutboxMessage);
  }

  async markDelivered(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.model
      .updateMany({ _id: trusted({ $in: ids.map(toObjectId) }) }, { $set: { deliveredAt: now, leasedBy: null } })
      .exec();
  }

  async scheduleRetries(schedules: RetrySchedule[]): Promise<void> {
    if (schedules.length === 0) return;
    await this.model.bulkWrite(
      schedules.map((schedule) => ({
        updateOne: {
          filter: { _id: toObjectId(schedule.id) },
          update: {
            $set: {
              attempts: schedule.attempts,
              nextAttemptAt: schedule.nextAttemptAt,
              lastError: schedule.lastError,
              leasedBy: null,
            },
          },
        },
      })),
      { ordered: false },
    );
  }

  async markFailed(id: string, attempts: number, now: Date, error: string): Promise<void> {
    await this.model
      .updateOne({ _id: toObjectId(id) }, { $set: { failedAt: now, attempts, lastError: error, leasedBy: null } })
      .exec();
  }

  /** Gives rows back without counting an attempt (the relay stopped mid-delivery). */
  async release(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.model
      .updateMany({ _id: trusted({ $in: ids.map(toObjectId) }), ...PENDING }, { $set: { nextAttemptAt: now, leasedBy: null } })
      .exec();
  }

  async deleteDeliveredBefore(cutoff: Date): Promise<number> {
    const result = await this.model.deleteMany({ deliveredAt: trusted({ $ne: null, $lt: cutoff }) }).exec();
    return result.deletedCount;
  }
}

function toObjectId(id: string): Types.ObjectId {
  return new Types.ObjectId(id);
}
