import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { IdempotencyRecord, StoredOutcome } from './idempotency-key.js';
import { type StoredIdempotencyKey, toIdempotencyRecord } from './idempotency-key.mapper.js';
import { IdempotencyKeyEntity } from './idempotency-key.schema.js';
import { groupedInserts } from '../common/grouped-writes.js';

@Injectable()
export class IdempotencyKeyRepository {
  constructor(@InjectModel(IdempotencyKeyEntity.name) private readonly model: Model<IdempotencyKeyEntity>) {
    this.inserts = groupedInserts(this.model.collection);
  }

  /** Keys taken at once (a launch crowd's keyed taps) go to the store together (see groupedInserts). */
  private readonly inserts;

  /**
   * Claims the key for a request; undefined when the unique index says it is already used. `lineage`: the
   * use this request records under, when it took over a key whose document is gone since (else this
   * document starts one). This and
   * `complete` run on every keyed claim (every tap of a launch crowd that retries safely), so they are the
   * driver's own commands: Mongoose's document machinery (casting, validation, defaults, hooks) cost more
   * CPU than the command, and the record is already typed, its document built here.
   */
  async tryStart(
    userId: string,
    key: string,
    requestHash: string,
    owner?: string,
    lineage?: string,
  ): Promise<IdempotencyRecord | undefined> {
    const id = new Types.ObjectId();
    const doc: StoredIdempotencyKey & { _id: Types.ObjectId } = {
      _id: id,
      userId,
      key,
      requestHash,
      state: 'IN_PROGRESS',
      createdAt: new Date(),
      ...(owner !== undefined && { owner }),
      lineage: lineage ?? id.toHexString(),
    };
    try {
      await this.inserts.add(doc);
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
    return toIdempotencyRecord(doc);
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const doc = await this.model.collection.findOne<StoredIdempotencyKey>({ userId, key });
    return doc ? toIdempotencyRecord(doc) : undefined;
  }

  /**
   * Stores the outcome. Only the request that inserted the key (or the reconciler after it died) writes here.
   * `ignoreUndefined`: a field left undefined in the outcome is absent when replayed, as it was when answered.
   */
  async complete(id: string, outcome: StoredOutcome): Promise<void> {
    await this.model.collection.updateOne(
      { _id: new Types.ObjectId(id) },
      { $set: { state: 'DONE', ...outcome } },
      { ignoreUndefined: true },
    );
  }

  /**
   * Completes keys whose outcome is a record of the use's own that never changes (IdempotencyRecord.recorded):
   * one command for them all, where `complete` is one each. On FerretDB an update reads every document of the
   * collection (no index serves its filter): the state filter is the part it pushes down, so only the keys
   * in progress are decoded. A key no longer IN_PROGRESS (the reconciler completed it) is left as it is.
   */
  async completeRecorded(ids: readonly string[]): Promise<void> {
    await this.model.collection.updateMany(
      { state: 'IN_PROGRESS', _id: { $in: ids.map((id) => new Types.ObjectId(id)) } },
      { $set: { state: 'DONE', recorded: true } },
    );
  }

  /**
   * A key whose request died having recorded nothing lasting: kept, so that the request taking it over
   * records under its lineage (deleted, a stalled owner waking later would record a second claim for the
   * key); under `lineage` instead when given (RetryUnder).
   */
  async markForgotten(id: string, lineage?: string): Promise<void> {
    await this.model.collection.updateOne(
      { _id: new Types.ObjectId(id), state: 'IN_PROGRESS' },
      { $set: { state: 'FORGOTTEN', ...(lineage !== undefined && { lineage }) } },
    );
  }

  /**
   * The key, taken over by a request (IdempotencyService): IN_PROGRESS again, named after its new owner,
   * recording under `lineage`, started now. Undefined when the document is gone (past its retention).
   */
  async takeOver(id: string, owner: string | undefined, lineage: string): Promise<IdempotencyRecord | undefined> {
    const doc = await this.model.collection.findOneAndUpdate(
      { _id: new Types.ObjectId(id) },
      {
        $set: { state: 'IN_PROGRESS', lineage, createdAt: new Date(), ...(owner !== undefined && { owner }) },
        $unset: { result: 1, error: 1, recorded: 1, ...(owner === undefined && { owner: 1 }) },
      },
      { returnDocument: 'after' },
    );
    return doc ? toIdempotencyRecord(doc as unknown as StoredIdempotencyKey) : undefined;
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
    const result = await this.model.deleteMany({ state: { $in: ['DONE', 'FORGOTTEN'] }, createdAt: { $lt: cutoff } }).exec();
    return result.deletedCount;
  }
}
