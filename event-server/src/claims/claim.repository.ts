import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, type QueryFilter, Types } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { IdempotencyRecord } from '../idempotency/idempotency-key.js';
import { type ClaimFilter, type ClaimProjection, type ClaimRecord, type NewClaim, keyedClaimId } from './claim.js';
import { type StoredClaim, toClaim, toClaimDocument } from './claim.mapper.js';
import { ClaimEntity } from './claim.schema.js';
import type { ClaimStatus } from './claim.state-machine.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { readListPage } from '../common/list-read.js';
import { groupedInserts } from '../common/grouped-writes.js';

function queryOf(filter: ClaimFilter): QueryFilter<ClaimEntity> {
  const query: QueryFilter<ClaimEntity> = {};
  if (filter.userId) query.userId = filter.userId;
  if (filter.eventId) query.eventId = filter.eventId;
  if (filter.status) query.status = filter.status;
  // A claim without a payout field never had anything to deliver.
  if (filter.payoutStatus === 'NOT_REQUIRED') query.payout = { $exists: false };
  else if (filter.payoutStatus) query['payout.status'] = filter.payoutStatus;
  if (filter.from || filter.to) {
    query.createdAt = { ...(filter.from && { $gte: filter.from }), ...(filter.to && { $lte: filter.to }) };
  }
  return query;
}

interface ProjectionUpdate {
  $set: Record<string, unknown>;
  $unset?: Record<string, 1>;
}

/**
 * The update of a projection: its fields, the release marker set (or, when `clearRelease`, removed), and the
 * claim-held unit removed when the decision gives the stock back.
 */
function updateOf(projection: ClaimProjection, clearRelease: boolean): ProjectionUpdate {
  const { releasePending, freeUnit, ...fields } = projection;
  const set: Record<string, unknown> = { ...fields };
  const unset: Record<string, 1> = {};
  if (releasePending) set.releasePending = true;
  else if (clearRelease) unset.releasePending = 1;
  if (freeUnit) Object.assign(unset, { unitKey: 1, unitRewardId: 1 });
  return Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set };
}

const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

export type ClaimInsert = 'INSERTED' | 'SLOT_HELD' | 'UNIT_HELD' | 'ID_TAKEN' | 'DUPLICATE';

@Injectable()
export class ClaimRepository {
  constructor(
    @InjectModel(ClaimEntity.name) private readonly model: Model<ClaimEntity>,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {
    this.inserts = groupedInserts(this.model.collection);
  }

  /**
   * Every claim's insert (grants, refusals, PROCESSING): a launch crowd's go to the store together, one
   * unordered command for those given while the last was under way (see groupedInserts).
   */
  private readonly inserts;

  /**
   * Inserts the claim; false when the unique index refused it: its slot key is already held, or (when it
   * carries a unit) that unit is.
   */
  async tryInsert(claim: NewClaim): Promise<boolean> {
    return (await this.insert(claim)) === 'INSERTED';
  }

  /**
   * Inserts the claim: INSERTED, or the unique key that refused it when the store names it (MongoDB's
   * `keyPattern`: SLOT_HELD, UNIT_HELD, or ID_TAKEN: a claim with its id, see keyedClaimId), else DUPLICATE
   * (FerretDB names no index).
   */
  async insert(claim: NewClaim): Promise<ClaimInsert> {
    try {
      // The driver's own insert, grouped: on the claim path Mongoose's document machinery (casting, validation,
      // defaults) cost more CPU than the command; the record is already typed, so its document is built here.
      await this.inserts.add(toClaimDocument(claim));
      return 'INSERTED';
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const keys = Object.keys((error as { keyPattern?: Record<string, unknown> }).keyPattern ?? {});
      if (keys.includes('slotKey')) return 'SLOT_HELD';
      if (keys.includes('unitKey')) return 'UNIT_HELD';
      if (keys.includes('_id')) return 'ID_TAKEN';
      return 'DUPLICATE';
    }
  }

  async findById(id: string): Promise<ClaimRecord | undefined> {
    const doc = await this.model.findById(id).lean<StoredClaim>().exec();
    return doc ? toClaim(doc) : undefined;
  }

  /** The driver's own read: a launch crowd told ALREADY_CLAIMED or OUT_OF_STOCK makes it once per tap. */
  async findBySlot(slotKey: string): Promise<ClaimRecord | undefined> {
    const doc = await this.model.collection.findOne<StoredClaim>({ slotKey });
    return doc ? toClaim(doc) : undefined;
  }

  /** Writes a decision's outcome by _id: the decision record already settled the race. */
  async project(id: string, projection: ClaimProjection): Promise<ClaimRecord | undefined> {
    const update = updateOf(projection, true);
    const doc = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<StoredClaim>().exec();
    return doc ? toClaim(doc) : undefined;
  }

  /**
   * Writes a decision's outcome only while the claim is still in `from`: the live request's projection of
   * its own decision, which must not overwrite a later one that the reconciler and a reviewer may already
   * have applied. False when the claim has moved on (then the caller applies the decision the long way).
   */
  async projectIfStatus(id: string, from: ClaimStatus, projection: ClaimProjection): Promise<boolean> {
    const update = updateOf(projection, false);
    // The driver's own update (the projection is already typed): this runs on every claim's path.
    const result = await this.model.collection.updateOne({ _id: new Types.ObjectId(id), status: from }, update);
    return result.matchedCount === 1;
  }

  async clearReleasePending(id: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $unset: { releasePending: 1 } }).exec();
  }

  async findProcessingBefore(cutoff: Date, limit: number): Promise<ClaimRecord[]> {
    const docs = await this.model
      .find({ status: 'PROCESSING', createdAt: { $lt: cutoff } })
      .sort({ createdAt: 1 })
      .limit(limit)
      .lean<StoredClaim[]>()
      .exec();
    return docs.map(toClaim);
  }

  async findReleasePending(limit: number): Promise<ClaimRecord[]> {
    const docs = await this.model.find({ releasePending: true }).limit(limit).lean<StoredClaim[]>().exec();
    return docs.map(toClaim);
  }

  /**
   * The claim a key's use recorded: the one under its keyed id (keyedClaimId, one read by `_id`); for a key
   * stored before lineages were, the newest claim carrying the key text.
   */
  async findRecordedUnder(key: IdempotencyRecord): Promise<ClaimRecord | undefined> {
    if (!key.lineageStored) return this.findLatestByIdempotencyKey(key.userId, key.key);
    return this.findById(keyedClaimId(key.userId, key.key, key.lineage));
  }

  async findLatestByIdempotencyKey(userId: string, idempotencyKey: string): Promise<ClaimRecord | undefined> {
    const doc = await this.model.findOne({ userId, idempotencyKey }).sort(NEWEST_FIRST).lean<StoredClaim>().exec();
    return doc ? toClaim(doc) : undefined;
  }

  async findPage(filter: ClaimFilter, skip: number, limit: number): Promise<{ items: ClaimRecord[]; total: number }> {
    const query = queryOf(filter);
    const { docs, total } = await readListPage(
      this.model.find(query).sort(NEWEST_FIRST).skip(skip).limit(limit).lean<StoredClaim[]>(),
      this.model.countDocuments(query),
      this.config.lists.readMaxMs,
      'eventId, status; for staff also userId, payoutStatus, from/to',
    );
    return { items: docs.map(toClaim), total };
  }

  /** Every matching claim, newest first, one at a time from a cursor (never all in memory). */
  async *stream(filter: ClaimFilter): AsyncGenerator<ClaimRecord> {
    const cursor = this.model.find(queryOf(filter)).sort(NEWEST_FIRST).lean<StoredClaim[]>().cursor({ batchSize: 1000 });
    try {
      for await (const doc of cursor) yield toClaim(doc as unknown as StoredClaim);
    } finally {
      await cursor.close();
    }
  }
}
