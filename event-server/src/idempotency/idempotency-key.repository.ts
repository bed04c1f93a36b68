import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { IdempotencyRecord, StoredOutcome } from './idempotency-key.js';
import { type StoredIdempotencyKey, toIdempotencyRecord } from './idempotency-key.mapper.js';
import { IdempotencyKeyEntity } from './idempotency-key.schema.js';

@Injectable()
export class IdempotencyKeyRepository {
  constructor(@InjectModel(IdempotencyKeyEntity.name) private readonly model: Model<IdempotencyKeyEntity>) {}

  /** Claims the key for a request; undefined when the unique index says it is already used. */
  async tryStart(userId: string, key: string, requestHash: string, owner?: string): Promise<IdempotencyRecord | undefined> {
    try {
      const created = await this.model.create({
        userId,
        key,
        requestHash,
        state: 'IN_PROGRESS',
        createdAt: new Date(),
        ...(owner !== undefined && { owner }),
      });
      return toIdempotencyRecord(created.toObject() as StoredIdempotencyKey);
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const doc = await this.model.findOne({ userId, key }).lean<StoredIdempotencyKey>().exec();
    return doc ? toIdempotencyRecord(doc) : undefined;
  }

  /** Stores the outcome. Only the request that inserted the key (or the reconciler after it died) writes here. */
  async complete(id: string, outcome: StoredOutcome): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { state: 'DONE', ...outcome } }).exec();
  }

  async delete(id: string): Promise<void> {
    await this.model.deleteOne({ _id: id }).exec();
  }

  async findInProgressBefore(cutoff: Date, limit: number): Promise<IdempotencyRecord[]> {
    const docs = await this.model
      .find({ state: 'IN_PROGRESS', createdAt: { $lt: cutoff } })
      .sort({ createdAt: 1 })
      .limit(limit)
      .lean<StoredIdempotencyKey[]>()
      .exec();
    return docs.map(toIdempotencyRecord);
  }

  async deleteCreatedBefore(cutoff: Date): Promise<number> {
    const result = await this.model.deleteMany({ state: 'DONE', createdAt: { $lt: cutoff } }).exec();
    return result.deletedCount;
  }
}
