import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { IdempotencyKeyEntity, type IdempotencyState, type StoredError } from './idempotency-key.schema.js';

export interface IdempotencyRecord {
  id: string;
  userId: string;
  key: string;
  requestHash: string;
  state: IdempotencyState;
  result?: Record<string, unknown>;
  error?: StoredError;
  createdAt: Date;
}

/** A finished request's outcome: what its use case returned, or the refusal it threw. */
export type StoredOutcome = { result: Record<string, unknown> } | { error: StoredError };

type Lean = IdempotencyKeyEntity & { _id: { toString(): string } };

function toRecord(doc: Lean): IdempotencyRecord {
  return {
    id: doc._id.toString(),
    userId: doc.userId,
    key: doc.key,
    requestHash: doc.requestHash,
    state: doc.state,
    ...(doc.result != null && { result: doc.result }),
    ...(doc.error != null && { error: doc.error }),
    createdAt: doc.createdAt,
  };
}

@Injectable()
export class IdempotencyKeyRepository {
  constructor(@InjectModel(IdempotencyKeyEntity.name) private readonly model: Model<IdempotencyKeyEntity>) {}

  /** Claims the key for a request; undefined when the unique index says it is already used. */
  async tryStart(userId: string, key: string, requestHash: string): Promise<IdempotencyRecord | undefined> {
    try {
      const created = await this.model.create({ userId, key, requestHash, state: 'IN_PROGRESS', createdAt: new Date() });
      return toRecord(created.toObject() as Lean);
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const doc = await this.model.findOne({ userId, key }).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
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
      .lean<Lean[]>()
      .exec();
    return docs.map(toRecord);
  }

  async deleteCreatedBefore(cutoff: Date): Promise<number> {
    const result = await this.model.deleteMany({ state: 'DONE', createdAt: { $lt: cutoff } }).exec();
    return result.deletedCount;
  }
}
