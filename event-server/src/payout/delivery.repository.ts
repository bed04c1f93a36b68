import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, type QueryFilter, Types } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { DeliveryEntity, DeliveryLeaseEntity } from './delivery.schema.js';
import type { DeliveryStatus } from './payout.rules.js';

export interface DeliveryAttempt {
  attempt: number;
  at: Date;
  statusCode?: number;
  latencyMs: number;
  error?: string;
}

export interface DeliveryRecord {
  id: string;
  decisionId: string;
  endpointId: string;
  claimId: string;
  type: string;
  webhookId: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  retryBase: number;
  nextAttemptAt: Date;
  lastAttemptAt?: Date;
  lastStatusCode?: number;
  lastLatencyMs?: number;
  lastError?: string;
  deliveredAt?: Date;
  log: DeliveryAttempt[];
  createdAt: Date;
}

export type NewDelivery = Omit<DeliveryRecord, 'id' | 'log'>;

export interface DeliveryFilter {
  status?: DeliveryStatus;
  endpointId?: string;
  claimId?: string;
}

/** What one attempt changes on its delivery. */
export interface AttemptUpdate {
  attempt: DeliveryAttempt;
  status: DeliveryStatus;
  nextAttemptAt?: Date;
  deliveredAt?: Date;
}

type Lean = DeliveryEntity & { _id: Types.ObjectId };

function toRecord(doc: Lean): DeliveryRecord {
  return {
    id: doc._id.toString(),
    decisionId: doc.decisionId,
    endpointId: doc.endpointId,
    claimId: doc.claimId,
    type: doc.type,
    webhookId: doc.webhookId,
    body: doc.body,
    status: doc.status,
    attempts: doc.attempts,
    retryBase: doc.retryBase,
    nextAttemptAt: doc.nextAttemptAt,
    ...(doc.lastAttemptAt != null && { lastAttemptAt: doc.lastAttemptAt }),
    ...(doc.lastStatusCode != null && { lastStatusCode: doc.lastStatusCode }),
    ...(doc.lastLatencyMs != null && { lastLatencyMs: doc.lastLatencyMs }),
    ...(doc.lastError != null && { lastError: doc.lastError }),
    ...(doc.deliveredAt != null && { deliveredAt: doc.deliveredAt }),
    log: (doc.log ?? []).map((entry) => ({
      attempt: entry.attempt,
      at: entry.at,
      ...(entry.statusCode != null && { statusCode: entry.statusCode }),
      latencyMs: entry.latencyMs,
      ...(entry.error != null && { error: entry.error }),
    })),
    createdAt: doc.createdAt,
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

  /** Records the deliveries; those already recorded (same decision and endpoint) are left as they are. */
  async insertMissing(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      await this.model.insertMany(deliveries, { ordered: false });
    } catch (error) {
      const writeErrors = (error as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
      const onlyDuplicates =
        isDuplicateKeyError(error) ||
        (writeErrors !== undefined && writeErrors.every((entry) => (entry.code ?? entry.err?.code) === 11000));
      if (!onlyDuplicates) throw error;
    }
  }

  async findById(id: string): Promise<DeliveryRecord | undefined> {
    const doc = await this.model.findById(id).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  /** Pending deliveries whose time has come, oldest due first (bounded: at most `limit`). */
  async findDue(now: Date, limit: number): Promise<DeliveryRecord[]> {
    const docs = await this.model
      .find({ status: 'PENDING', nextAttemptAt: { $lte: now } })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .lean<Lean[]>()
      .exec();
    return docs.map(toRecord);
  }

  async findByClaim(claimId: string): Promise<DeliveryRecord[]> {
    const docs = await this.model.find({ claimId }).lean<Lean[]>().exec();
    return docs.map(toRecord);
  }

  async findPage(filter: DeliveryFilter, skip: number, limit: number): Promise<{ items: DeliveryRecord[]; total: number }> {
    const query = queryOf(filter);
    const [docs, total] = await Promise.all([
      this.model.find(query).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<Lean[]>().exec(),
      this.model.countDocuments(query).exec(),
    ]);
    return { items: docs.map(toRecord), total };
  }

  /** Written only by the holder of the attempt's lease, so a plain update by _id is enough. */
  async recordAttempt(id: string, update: AttemptUpdate): Promise<DeliveryRecord | undefined> {
    const { attempt, status, nextAttemptAt, deliveredAt } = update;
    const doc = await this.model
      .findByIdAndUpdate(
        id,
        {
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
        { returnDocument: 'after' },
      )
      .lean<Lean>()
      .exec();
    return doc ? toRecord(doc) : undefined;
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
      .lean<Lean>()
      .exec();
    return doc ? toRecord(doc) : undefined;
  }

  /** True when this caller now holds attempt `attempt` of the delivery (the unique _id decides). */
  async tryLease(deliveryId: string, attempt: number, at: Date): Promise<boolean> {
    try {
      await this.leases.create({ _id: `${deliveryId}:${attempt}`, at });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async leaseTakenAt(deliveryId: string, attempt: number): Promise<Date | undefined> {
    const doc = await this.leases.findById(`${deliveryId}:${attempt}`).lean<{ at: Date }>().exec();
    return doc?.at;
  }
}
