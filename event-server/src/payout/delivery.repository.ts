import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, type QueryFilter, Types, type UpdateQuery } from 'mongoose';
import { DUPLICATE_KEY_CODE, isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { AttemptUpdate, DeliveryFilter, DeliveryRecord, LeaseKey, NewDelivery } from './delivery.js';
import { type StoredDelivery, toDelivery } from './delivery.mapper.js';
import { DeliveryEntity, DeliveryLeaseEntity } from './delivery.schema.js';
import { fewAtATime } from './few-at-a-time.js';

export const leaseId = (key: LeaseKey): string => `${key.deliveryId}:${key.attempt}`;

/**
 * Which of the documents an unordered insert stored: the others a unique index refused (anything else
 * is thrown). One command for the whole list.
 */
export async function insertEach(insert: () => Promise<unknown>, count: number): Promise<boolean[]> {
  const stored = new Array<boolean>(count).fill(true);
  try {
    await insert();
  } catch (error) {
    type WriteError = { index?: number; code?: number };
    const writeErrors = (error as { writeErrors?: WriteError[] | WriteError }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0 && count === 1 && isDuplicateKeyError(error)) return [false];
    if (list.length === 0 || list.some((entry) => entry.code !== DUPLICATE_KEY_CODE || entry.index === undefined)) throw error;
    for (const entry of list) stored[entry.index as number] = false;
  }
  return stored;
}

function attemptOperation(
  id: string,
  update: AttemptUpdate,
): { filter: QueryFilter<DeliveryEntity>; update: UpdateQuery<DeliveryEntity> } {
  const { attempt, status, nextAttemptAt, deliveredAt } = update;
  return {
    filter: { _id: id },
    update: {
      $set: {
        status,
        attempts: attempt.attempt,
        lastAttemptAt: attempt.at,
        lastLatencyMs: attempt.latencyMs,
        ...(nextAttemptAt && { nextAttemptAt }),
        ...(deliveredAt && { deliveredAt }),
        ...(attempt.statusCode !== undefined && { lastStatusCode: attempt.statusCode }),
        ...(attempt.error !== undefined && { lastError: attempt.error }),
      },
      ...((attempt.statusCode === undefined || attempt.error === undefined) && {
        $unset: {
          ...(attempt.statusCode === undefined && { lastStatusCode: 1 }),
          ...(attempt.error === undefined && { lastError: 1 }),
        },
      }),
      $push: { log: attempt },
    },
  };
}

function queryOf(filter: DeliveryFilter): QueryFilter<DeliveryEntity> {
  return {
    ...(filter.status && { status: filter.status }),
    ...(filter.endpointId && { endpointId: filter.endpointId }),
    ...(filter.claimId && { claimId: filter.claimId }),
  };
}

@Injectable()
export class DeliveryRepository {
  constructor(
    @InjectModel(DeliveryEntity.name) private readonly model: Model<DeliveryEntity>,
    @InjectModel(DeliveryLeaseEntity.name) private readonly leases: Model<DeliveryLeaseEntity>,
  ) {}

  /**
   * Records the deliveries in one command and returns those this call stored; those already recorded
   * (same decision and endpoint, by another relay or an earlier round) are left as they are.
   */
  async insertMissing(deliveries: readonly NewDelivery[]): Promise<DeliveryRecord[]> {
    if (deliveries.length === 0) return [];
    const docs = deliveries.map((delivery) => ({ _id: new Types.ObjectId(), ...delivery, log: [] }));
    const stored = await insertEach(() => this.model.collection.insertMany(docs, { ordered: false }), docs.length);
    return docs.filter((_doc, index) => stored[index]).map((doc) => toDelivery(doc as StoredDelivery));
  }

  async findById(id: string): Promise<DeliveryRecord | undefined> {
    const doc = await this.model.findById(id).lean<StoredDelivery>().exec();
    return doc ? toDelivery(doc) : undefined;
  }

  /** Pending deliveries whose time has come, oldest due first (bounded: at most `limit`). */
  async findDue(now: Date, limit: number): Promise<DeliveryRecord[]> {
    const docs = await this.model
      .find({ status: 'PENDING', nextAttemptAt: { $lte: now } })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .lean<StoredDelivery[]>()
      .exec();
    return docs.map(toDelivery);
  }

  async findByClaim(claimId: string): Promise<DeliveryRecord[]> {
    const docs = await this.model.find({ claimId }).lean<StoredDelivery[]>().exec();
    return docs.map(toDelivery);
  }

  /**
   * The ones still PENDING of these deliveries. One command: the status equality is what FerretDB
   * filters in the database (the pending ones are few), the ids are then matched among those.
   */
  async findPendingByIds(ids: readonly string[]): Promise<DeliveryRecord[]> {
    if (ids.length === 0) return [];
    const docs = await this.model
      .find({ status: 'PENDING', _id: { $in: ids.map((id) => new Types.ObjectId(id)) } })
      .lean<StoredDelivery[]>()
      .exec();
    return docs.map(toDelivery);
  }

  async findPage(filter: DeliveryFilter, skip: number, limit: number): Promise<{ items: DeliveryRecord[]; total: number }> {
    const query = queryOf(filter);
    const [docs, total] = await Promise.all([
      this.model.find(query).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<StoredDelivery[]>().exec(),
      this.model.countDocuments(query).exec(),
    ]);
    return { items: docs.map(toDelivery), total };
  }

  /** Written only by the holder of the attempt's lease, so a plain update by _id is enough. */
  async recordAttempt(id: string, update: AttemptUpdate): Promise<void> {
    await this.recordAttempts([{ id, update }]);
  }

  /** The attempts of one round, each written only by the holder of its lease (one update each, in turn). */
  async recordAttempts(attempts: ReadonlyArray<{ id: string; update: AttemptUpdate }>): Promise<void> {
    await fewAtATime(attempts, async ({ id, update }) => {
      const { filter, update: change } = attemptOperation(id, update);
      await this.model.updateOne(filter, change).exec();
    });
  }

  /** A FAILED delivery due again now, its backoff schedule started over. */
  async reschedule(id: string, now: Date): Promise<DeliveryRecord | undefined> {
    const current = await this.findById(id);
    if (!current) return undefined;
    const doc = await this.model
      .findByIdAndUpdate(
        id,
        { $set: { status: 'PENDING', nextAttemptAt: now, retryBase: current.attempts } },
        { returnDocument: 'after' },
      )
      .lean<StoredDelivery>()
      .exec();
    return doc ? toDelivery(doc) : undefined;
  }

  /** True when this caller now holds attempt `attempt` of the delivery (the unique _id decides). */
  async tryLease(deliveryId: string, attempt: number, at: Date): Promise<boolean> {
    const [won] = await this.tryLeases([{ deliveryId, attempt }], at);
    return won === true;
  }

  /** One insert for the leases of a round: true where this caller now holds the attempt. */
  async tryLeases(keys: readonly LeaseKey[], at: Date): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const docs = keys.map((key) => ({ _id: leaseId(key), at }));
    return insertEach(() => this.leases.collection.insertMany(docs as never[], { ordered: false }), docs.length);
  }

  async leaseTakenAt(deliveryId: string, attempt: number): Promise<Date | undefined> {
    return (await this.leasesTakenAt([{ deliveryId, attempt }])).get(leaseId({ deliveryId, attempt }));
  }

  /** When each of these leases was taken (absent: already removed). The collection holds only attempts in flight. */
  async leasesTakenAt(keys: readonly LeaseKey[]): Promise<Map<string, Date>> {
    if (keys.length === 0) return new Map();
    const docs = await this.leases
      .find({ _id: { $in: keys.map(leaseId) } })
      .lean<Array<{ _id: string; at: Date }>>()
      .exec();
    return new Map(docs.map((doc) => [doc._id, doc.at]));
  }

  /** Removes the leases of recorded (or abandoned) attempts: the unique insert has decided already. */
  async releaseLeases(keys: readonly LeaseKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.leases.deleteMany({ _id: { $in: keys.map(leaseId) } }).exec();
  }

  /** How many leases are held (attempts in flight, or left by a relay that died). */
  async countLeases(): Promise<number> {
    return this.leases.countDocuments().exec();
  }
}
