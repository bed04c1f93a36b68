import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, type QueryFilter, Types } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { ClaimPayout, PayoutStatus } from '../payout/payout.rules.js';
import { ClaimEntity } from './claim.schema.js';
import type { ClaimReason, ClaimStatus } from './claim.state-machine.js';

export interface ClaimReward {
  rewardId: string;
  type: string;
  name: string;
  quantity: number;
}

export interface ClaimRecord {
  id: string;
  eventId: string;
  userId: string;
  status: ClaimStatus;
  reason?: ClaimReason;
  note?: string;
  rewards: ClaimReward[];
  slotKey: string;
  idempotencyKey?: string;
  createdAt: Date;
  decidedAt?: Date;
  decidedBy?: string;
  releasePending?: boolean;
  payout?: ClaimPayout;
}

export type NewClaim = Omit<ClaimRecord, 'id'> & { id: string };

export interface ClaimFilter {
  userId?: string;
  eventId?: string;
  status?: ClaimStatus;
  payoutStatus?: PayoutStatus;
  from?: Date;
  to?: Date;
}

/** The fields a decision writes onto the claim. */
export interface ClaimProjection {
  status: ClaimStatus;
  reason?: ClaimReason;
  note?: string;
  decidedAt: Date;
  decidedBy?: string;
  slotKey?: string;
  releasePending?: boolean;
  /** Set when the decision has webhooks to send: the claim shows payout PENDING from its first answer. */
  payout?: ClaimPayout;
}

type Lean = ClaimEntity & { _id: Types.ObjectId };

function toRecord(doc: Lean): ClaimRecord {
  return {
    id: doc._id.toString(),
    eventId: doc.eventId,
    userId: doc.userId,
    status: doc.status,
    ...(doc.reason != null && { reason: doc.reason }),
    ...(doc.note != null && { note: doc.note }),
    rewards: (doc.rewards ?? []).map((reward) => ({
      rewardId: reward.rewardId,
      type: reward.type,
      name: reward.name,
      quantity: reward.quantity,
    })),
    slotKey: doc.slotKey,
    ...(doc.idempotencyKey != null && { idempotencyKey: doc.idempotencyKey }),
    createdAt: doc.createdAt,
    ...(doc.decidedAt != null && { decidedAt: doc.decidedAt }),
    ...(doc.decidedBy != null && { decidedBy: doc.decidedBy }),
    ...(doc.releasePending === true && { releasePending: true }),
    ...(doc.payout != null && { payout: payoutOf(doc.payout) }),
  };
}

function payoutOf(payout: NonNullable<ClaimEntity['payout']>): ClaimPayout {
  return {
    status: payout.status,
    attempts: payout.attempts,
    ...(payout.lastAttemptAt != null && { lastAttemptAt: payout.lastAttemptAt }),
    ...(payout.lastError != null && { lastError: payout.lastError }),
    ...(payout.deliveredAt != null && { deliveredAt: payout.deliveredAt }),
  };
}

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

/** The stored document of a new claim: the record's fields, absent ones left out (never stored as null). */
function toDocument(claim: NewClaim): Lean {
  return {
    _id: new Types.ObjectId(claim.id),
    eventId: claim.eventId,
    userId: claim.userId,
    status: claim.status,
    ...(claim.reason !== undefined && { reason: claim.reason }),
    ...(claim.note !== undefined && { note: claim.note }),
    rewards: claim.rewards.map((reward) => ({
      rewardId: reward.rewardId,
      type: reward.type,
      name: reward.name,
      quantity: reward.quantity,
    })),
    slotKey: claim.slotKey,
    ...(claim.idempotencyKey !== undefined && { idempotencyKey: claim.idempotencyKey }),
    createdAt: claim.createdAt,
    ...(claim.decidedAt !== undefined && { decidedAt: claim.decidedAt }),
    ...(claim.decidedBy !== undefined && { decidedBy: claim.decidedBy }),
    ...(claim.releasePending === true && { releasePending: true }),
    ...(claim.payout !== undefined && { payout: { ...claim.payout } }),
  };
}

const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

export function newClaimId(): string {
  return new Types.ObjectId().toString();
}

@Injectable()
export class ClaimRepository {
  constructor(@InjectModel(ClaimEntity.name) private readonly model: Model<ClaimEntity>) {}

  /** Inserts the claim; false when its slot key is already held (the unique index decides). */
  async tryInsert(claim: NewClaim): Promise<boolean> {
    try {
      // The driver's own insert: on the claim path Mongoose's document machinery (casting, validation,
      // defaults) cost more CPU than the command; the record is already typed, so its document is built here.
      await this.model.collection.insertOne(toDocument(claim));
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async findById(id: string): Promise<ClaimRecord | undefined> {
    const doc = await this.model.findById(id).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  async findBySlot(slotKey: string): Promise<ClaimRecord | undefined> {
    const doc = await this.model.findOne({ slotKey }).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  /** Writes a decision's outcome by _id: the decision record already settled the race. */
  async project(id: string, projection: ClaimProjection): Promise<ClaimRecord | undefined> {
    const { releasePending, ...set } = projection;
    const update = releasePending ? { $set: { ...set, releasePending: true } } : { $set: set, $unset: { releasePending: 1 } };
    const doc = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  /**
   * Writes a decision's outcome only while the claim is still in `from`: the live request's projection of
   * its own decision, which must not overwrite a later one that the reconciler and a reviewer may already
   * have applied. False when the claim has moved on (then the caller applies the decision the long way).
   */
  async projectIfStatus(id: string, from: ClaimStatus, projection: ClaimProjection): Promise<boolean> {
    const { releasePending, ...set } = projection;
    const update = releasePending ? { $set: { ...set, releasePending: true } } : { $set: set };
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
      .lean<Lean[]>()
      .exec();
    return docs.map(toRecord);
  }

  async findReleasePending(limit: number): Promise<ClaimRecord[]> {
    const docs = await this.model.find({ releasePending: true }).limit(limit).lean<Lean[]>().exec();
    return docs.map(toRecord);
  }

  async findLatestByIdempotencyKey(userId: string, idempotencyKey: string): Promise<ClaimRecord | undefined> {
    const doc = await this.model.findOne({ userId, idempotencyKey }).sort(NEWEST_FIRST).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  async findPage(filter: ClaimFilter, skip: number, limit: number): Promise<{ items: ClaimRecord[]; total: number }> {
    const query = queryOf(filter);
    const [docs, total] = await Promise.all([
      this.model.find(query).sort(NEWEST_FIRST).skip(skip).limit(limit).lean<Lean[]>().exec(),
      this.model.countDocuments(query).exec(),
    ]);
    return { items: docs.map(toRecord), total };
  }

  /** Every matching claim, newest first, one at a time from a cursor (never all in memory). */
  async *stream(filter: ClaimFilter): AsyncGenerator<ClaimRecord> {
    const cursor = this.model.find(queryOf(filter)).sort(NEWEST_FIRST).lean<Lean[]>().cursor({ batchSize: 1000 });
    try {
      for await (const doc of cursor) yield toRecord(doc as unknown as Lean);
    } finally {
      await cursor.close();
    }
  }
}
