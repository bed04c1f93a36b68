import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types, trusted } from 'mongoose';
import { ThrottleAttemptEntity, type ThrottleScope } from './throttle-attempt.schema.js';

/** Which attempts a limit counts: of one scope, and of an address, an account, or both. */
export interface AttemptKey {
  scope: ThrottleScope;
  ip?: string;
  account?: string;
  /** Only attempts known to have failed (not those still in flight). */
  settledOnly?: boolean;
}

/** Operators are wrapped in `trusted()`: the connection sanitises filters (sanitizeFilter) against injection. */
@Injectable()
export class ThrottleAttemptRepository implements OnModuleInit {
  constructor(@InjectModel(ThrottleAttemptEntity.name) private readonly model: Model<ThrottleAttemptEntity>) {}

  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  async record(attempt: {
    scope: ThrottleScope;
    ip: string;
    account: string | null;
    at: Date;
    settled: boolean;
  }): Promise<string> {
    const document = await this.model.create(attempt);
    return document._id.toHexString();
  }

  /** A plain update: only the request that recorded the attempt ever settles it. */
  async settle(id: string): Promise<void> {
    await this.model.updateOne({ _id: new Types.ObjectId(id) }, { $set: { settled: true } }).exec();
  }

  async remove(id: string): Promise<void> {
    await this.model.deleteOne({ _id: new Types.ObjectId(id) }).exec();
  }

  /** Times of the newest attempts under `key` after `since`, newest first, at most `max`. */
  async findRecentTimes(key: AttemptKey, since: Date, max: number): Promise<Date[]> {
    const documents = await this.model
      .find({
        scope: key.scope,
        ...(key.account !== undefined && { account: key.account }),
        ...(key.ip !== undefined && { ip: key.ip }),
        ...(key.settledOnly === true && { settled: true }),
        at: trusted({ $gt: since }),
      })
      .sort({ at: -1 })
      .limit(max)
      .select({ at: 1, _id: 0 })
      .lean<Array<Pick<ThrottleAttemptEntity, 'at'>>>()
      .exec();
    return documents.map((document) => document.at);
  }

  async deleteOlderThan(before: Date): Promise<number> {
    const result = await this.model.deleteMany({ at: trusted({ $lt: before }) }).exec();
    return result.deletedCount;
  }
}
