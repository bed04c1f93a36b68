import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { type Model, trusted } from 'mongoose';
import { KnownAddressEntity } from './known-address.schema.js';

/** Operators are wrapped in `trusted()`: the connection sanitises filters (sanitizeFilter) against injection. */
@Injectable()
export class KnownAddressRepository implements OnModuleInit {
  constructor(@InjectModel(KnownAddressEntity.name) private readonly model: Model<KnownAddressEntity>) {}

  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  /**
   * One command: refreshes the address's time, or inserts it. True when this call inserted it (the account's
   * first sign-in there). Two first sign-ins at once: the unique index admits one insert, and the other, refused,
   * is the same fact ("known now"), so it is not an error; on FerretDB an upsert is a query then an insert.
   */
  async touch(account: string, ip: string, at: Date): Promise<boolean> {
    try {
      const result = await this.model.updateOne({ account, ip }, { $set: { lastSignInAt: at } }, { upsert: true }).exec();
      return result.upsertedCount > 0;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /** Whether the account signed in from `ip` after `since`: one probe of the unique index. */
  async isKnown(account: string, ip: string, since: Date): Promise<boolean> {
    const found = await this.model
      .findOne({ account, ip, lastSignInAt: trusted({ $gt: since }) })
      .select({ _id: 1 })
      .lean()
      .exec();
    return found !== null;
  }

  /**
   * Keeps the account's `keep` most recent addresses and deletes the rest. A read of at most `keep` plus the
   * few inserted since the last trim (each needed the password), and a delete only when there is a surplus.
   */
  async keepNewest(account: string, keep: number): Promise<number> {
    const surplus = await this.model.find({ account }).sort({ lastSignInAt: -1 }).skip(keep).select({ _id: 1 }).lean().exec();
    if (surplus.length === 0) return 0;
    const result = await this.model.deleteMany({ _id: trusted({ $in: surplus.map((document) => document._id) }) }).exec();
    return result.deletedCount;
  }

  async deleteOlderThan(before: Date): Promise<number> {
    const result = await this.model.deleteMany({ lastSignInAt: trusted({ $lt: before }) }).exec();
    return result.deletedCount;
  }
}
