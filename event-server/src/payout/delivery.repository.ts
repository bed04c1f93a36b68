import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, type QueryFilter, Types, type UpdateQuery } from 'mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import type {
  AttemptUpdate,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryWithAttempts,
  LeaseKey,
  NewDelivery,
  SendRequest,
  SendRequestKind,
} from './delivery.js';
import { type StoredDelivery, toDelivery, withAttempts } from './delivery.mapper.js';
import {
  DeliveryAttemptLogEntity,
  DeliveryEntity,
  DeliveryLeaseEntity,
  DeliveryRetryEntity,
  DeliverySendRequestEntity,
} from './delivery.schema.js';
import { fewAtATime, groupAlike } from './few-at-a-time.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { readListPage } from '../common/list-read.js';
import { type PendingAudit, pendingAuditStore } from '../audit/audit-log.service.js';

/**
 * The most deliveries a send-pending or retry-failed request counts for its answer (DELIVERY_COUNT_MAX means at
 * least that many).
 */
export const DELIVERY_COUNT_MAX = 10_000;

/** How many deliveries' attempt logs a page read fetches at once (one equality read each, pushed down on FerretDB). */
const LOG_READS_AT_ONCE = 4;
/** A retry whose delivery is still FAILED this long after its record was inserted was abandoned by a dead process. */
export const RETRY_ABANDONED_MS = 30_000;

/** A retry record or a send request that still carries its audit entry (PendingAudit), for PayoutAuditSweep. */
export interface CarriedAudit {
  id: string;
  pendingAudit: PendingAudit;
  /** A retry record's: the delivery, the failure it retried (its attempts then) and when it was taken. */
  deliveryId?: string;
  fromAttempt?: number;
  at: Date;
}

export const leaseId = (key: LeaseKey): string => `${key.deliveryId}:${key.attempt}`;

/** Whether the request still owes the delivery an attempt (what findOwedTo looks for, on a delivery in hand). */
export function owedTo(request: SendRequest, delivery: DeliveryRecord): boolean {
  return (
    delivery.status === 'PENDING' &&
    delivery.endpointId === request.endpointId &&
    delivery.lastAttemptAt !== undefined &&
    delivery.lastAttemptAt.getTime() < request.at.getTime() &&
    delivery.sendRequestId !== request.id
  );
}

/**
 * What an attempt changes on its delivery document. Attempts that ended alike (same status, attempt number,
 * answer and next time) change their deliveries alike: the round's writes are grouped by this.
 */
function attemptChange(update: AttemptUpdate): UpdateQuery<DeliveryEntity> {
  const { attempt, status, nextAttemptAt, deliveredAt, retryBase, sendRequestId } = update;
  return {
    $set: {
      status,
      attempts: attempt.attempt,
      ...(retryBase !== undefined && { retryBase }),
      ...(sendRequestId !== undefined && { sendRequestId }),
      lastAttemptAt: attempt.at,
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
    @InjectModel(DeliveryAttemptLogEntity.name) private readonly attemptLog: Model<DeliveryAttemptLogEntity>,
    @InjectModel(DeliveryRetryEntity.name) private readonly retries: Model<DeliveryRetryEntity>,
    @InjectModel(DeliverySendRequestEntity.name) private readonly sendRequests: Model<DeliverySendRequestEntity>,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {
    this.sendRequestAudits = pendingAuditStore(sendRequests, { flagged: true });
    this.retryAudits = pendingAuditStore(retries, { flagged: true });
  }

  private readonly sendRequestAudits: ReturnType<typeof pendingAuditStore>;
  private readonly retryAudits: ReturnType<typeof pendingAuditStore>;

  /**
   * Records the deliveries in one command and returns those this call stored; those already recorded
   * (same decision and endpoint, by another relay or an earlier round) are left as they are.
   */
  async insertMissing(deliveries: readonly NewDelivery[]): Promise<DeliveryRecord[]> {
    if (deliveries.length === 0) return [];
    const docs = deliveries.map((delivery) => ({ _id: new Types.ObjectId(), ...delivery }));
    const stored = await insertEach(() => this.model.collection.insertMany(docs, { ordered: false }), docs.length);
    return docs.filter((_doc, index) => stored[index]).map((doc) => toDelivery(doc as StoredDelivery));
  }

  async findById(id: string): Promise<DeliveryWithAttempts | undefined> {
    const doc = await this.model.findById(id).lean<StoredDelivery>().exec();
    return doc ? (await this.withAttempts([doc]))[0] : undefined;
  }

  /** The documents with their attempts: one read of the attempts log per delivery (an equality, so few rows are read). */
  private async withAttempts(docs: readonly StoredDelivery[]): Promise<DeliveryWithAttempts[]> {
    return fewAtATime(
      docs,
      async (doc) =>
        withAttempts(
          doc,
          await this.attemptLog.find({ deliveryId: doc._id.toString() }).lean<DeliveryAttemptLogEntity[]>().exec(),
        ),
      LOG_READS_AT_ONCE,
    );
  }

  /**
   * Pending deliveries whose time has come, oldest due first (bounded: at most `limit`), except those to
   * `skipEndpoints`. `attempted`: only those never attempted (false) or only retries (true), so that neither
   * kind's backlog fills the other's look.
   */
  async findDue(
    now: Date,
    limit: number,
    { skipEndpoints = [], attempted }: { skipEndpoints?: readonly string[]; attempted?: boolean } = {},
  ): Promise<DeliveryRecord[]> {
    const docs = await this.model
      .find({
        status: 'PENDING',
        nextAttemptAt: { $lte: now },
        ...(attempted !== undefined && { attempts: attempted ? { $gt: 0 } : 0 }),
        ...(skipEndpoints.length > 0 && { endpointId: { $nin: [...skipEndpoints] } }),
      })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .lean<StoredDelivery[]>()
      .exec();
    return docs.map(toDelivery);
  }

  /**
   * Pending deliveries to the request's endpoint last attempted before it and not attempted for it yet (see
   * owedTo), latest due first, at most `limit`: those whose time is furthest off gain most from the request,
   * and those already due are found by the due look as well. The status and endpoint equalities are what
   * FerretDB filters in the database; the rest is compared after.
   */
  async findOwedTo(request: SendRequest, limit: number): Promise<DeliveryRecord[]> {
    const docs = await this.model
      .find({
        status: 'PENDING',
        endpointId: request.endpointId,
        lastAttemptAt: { $lt: request.at },
        sendRequestId: { $ne: request.id },
      })
      .sort({ nextAttemptAt: -1 })
      .limit(limit)
      .lean<StoredDelivery[]>()
      .exec();
    return docs.map(toDelivery);
  }

  /**
   * FAILED deliveries to the request's endpoint last attempted before it and not made PENDING again for it
   * yet, at most `limit`. The status and endpoint equalities are what FerretDB filters in the database; the rest
   * is compared after. Not sorted: FerretDB sorts in memory, so a sort read every FAILED delivery of the endpoint
   * (bodies included) on every round to reopen 32 (1.27 s against 0.15 s among 20,000 measured here, and growing
   * with them); without one it stops at the limit. On MongoDB the (endpointId, status, createdAt) index gives
   * them oldest first all the same.
   */
  async findFailedOwedTo(request: SendRequest, limit: number): Promise<DeliveryRecord[]> {
    const docs = await this.model
      .find({
        status: 'FAILED',
        endpointId: request.endpointId,
        lastAttemptAt: { $lt: request.at },
        retryRequestId: { $ne: request.id },
      })
      .limit(limit)
      .lean<StoredDelivery[]>()
      .exec();
    return docs.map(toDelivery);
  }

  /**
   * How many deliveries to the endpoint are in `status`, counted up to DELIVERY_COUNT_MAX: a count reads every match
   * on FerretDB, and after a receiver's outage during a launch every grant is PENDING or FAILED (14 s for 100,000:
   * the operator's send-pending or retry-failed request would end in 504).
   */
  async countWithStatus(endpointId: string, status: 'PENDING' | 'FAILED'): Promise<number> {
    return this.model.countDocuments({ status, endpointId }, { limit: DELIVERY_COUNT_MAX }).exec();
  }

  /**
   * Records a send-now or retry-failed request (an insert), with its audit entry on it (`entry`, PendingAudit: the
   * request never stands without it); nothing else is written for it but taking the entry off once recorded.
   */
  async recordSendRequest(
    endpointId: string,
    actorId: string,
    at: Date,
    kind: SendRequestKind = 'SEND_PENDING',
    entry?: PendingAudit,
  ): Promise<SendRequest> {
    const _id = new Types.ObjectId();
    await this.sendRequests.collection.insertOne({
      _id,
      endpointId,
      actorId,
      at,
      ...(kind === 'RETRY_FAILED' && { kind }),
      ...(entry && { pendingAudit: entry, auditPending: true }),
    } as never);
    return { id: _id.toString(), endpointId, at, kind, actorId };
  }

  /** Takes a recorded audit entry off its send request (nobody else writes a request). */
  clearSendRequestAudit(id: string, key: string): Promise<void> {
    return this.sendRequestAudits.clear(id, key);
  }

  /** Send requests that still carry their audit entry, at most `limit`. */
  async sendRequestsCarryingAudit(limit: number): Promise<CarriedAudit[]> {
    const docs = await this.sendRequestAudits.carrying<DeliverySendRequestEntity>(limit);
    return docs.map((doc) => ({ id: String(doc._id), pendingAudit: doc.pendingAudit, at: doc.at }));
  }

  /**
   * Removes the send-now requests made before `before` (none is looked at then; nothing else writes them), but for
   * those whose audit entry is not recorded yet (the sweep's).
   */
  async pruneSendRequests(before: Date): Promise<void> {
    await this.sendRequests.deleteMany({ at: { $lt: before }, auditPending: { $ne: true } }).exec();
  }

  /** The latest request of each kind (send-pending, retry-failed) of each endpoint made at `since` or later. */
  async latestSendRequests(since: Date): Promise<SendRequest[]> {
    const docs = await this.sendRequests
      .find({ at: { $gte: since } })
      .sort({ at: -1 })
      .lean<Array<DeliverySendRequestEntity & { _id: Types.ObjectId }>>()
      .exec();
    const latest = new Map<string, SendRequest>();
    for (const doc of docs) {
      const kind: SendRequestKind = doc.kind ?? 'SEND_PENDING';
      const key = `${doc.endpointId}:${kind}`;
      if (!latest.has(key))
        latest.set(key, { id: doc._id.toString(), endpointId: doc.endpointId, at: doc.at, kind, actorId: doc.actorId });
    }
    return [...latest.values()];
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

  async findPage(filter: DeliveryFilter, skip: number, limit: number): Promise<{ items: DeliveryWithAttempts[]; total: number }> {
    const query = queryOf(filter);
    const { docs, total } = await readListPage(
      this.model.find(query).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<StoredDelivery[]>(),
      this.model.countDocuments(query),
      this.config.lists.readMaxMs,
      'status, endpointId, claimId',
    );
    return { items: await this.withAttempts(docs), total };
  }

  /**
   * Removes pending deliveries that are not to be sent (their endpoint was deleted or disabled before their
   * transition was recorded): by their ids, written only by the holder of their lease.
   */
  async removePending(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.model.deleteMany({ status: 'PENDING', _id: { $in: ids.map((id) => new Types.ObjectId(id)) } }).exec();
  }

  /** Written only by the holder of the attempt's lease. */
  async recordAttempt(id: string, update: AttemptUpdate): Promise<void> {
    await this.recordAttempts([{ id, update }]);
  }

  /**
   * The attempts of one round, each written only by the holder of its lease: one insert into the attempts
   * log, then one update per group of deliveries whose attempts ended alike (a round whose receivers all
   * answered 2xx at once is one group). The log comes first: an attempt recorded again after a crash keeps
   * its first answer there. The update's status equality is what FerretDB filters in the database (the
   * pending deliveries are few), the ids are then matched among those.
   */
  async recordAttempts(attempts: ReadonlyArray<{ id: string; update: AttemptUpdate }>): Promise<void> {
    if (attempts.length === 0) return;
    const log = attempts.map(({ id, update: { attempt } }) => ({
      _id: `${id}:${attempt.attempt}`,
      deliveryId: id,
      attempt: attempt.attempt,
      at: attempt.at,
      ...(attempt.statusCode !== undefined && { statusCode: attempt.statusCode }),
      latencyMs: attempt.latencyMs,
      ...(attempt.error !== undefined && { error: attempt.error }),
    }));
    await insertEach(() => this.attemptLog.collection.insertMany(log as never[], { ordered: false }), log.length);
    const groups = groupAlike(attempts.map(({ id, update }) => [new Types.ObjectId(id), attemptChange(update)] as const));
    await fewAtATime(groups, async ({ value: change, keys: ids }) => {
      const filter: QueryFilter<DeliveryEntity> = { status: 'PENDING', _id: { $in: ids } };
      await this.model.updateMany(filter, change).exec();
    });
  }

  /**
   * True when this caller now holds the retry of the delivery's failure after `fromAttempt` attempts (the
   * unique _id decides between concurrent callers). Called only while the delivery was seen FAILED there.
   */
  async tryRetry(deliveryId: string, fromAttempt: number, actorId: string, at: Date): Promise<boolean> {
    return (await this.takeRetry(deliveryId, fromAttempt, actorId, at)) !== undefined;
  }

  /**
   * tryRetry that answers the retry record's id (undefined: another caller holds the retry), with the retry's audit
   * entry (`entry`, PendingAudit) inserted with the record.
   */
  async takeRetry(
    deliveryId: string,
    fromAttempt: number,
    actorId: string,
    at: Date,
    entry?: PendingAudit,
  ): Promise<string | undefined> {
    const latest = await this.retries.findOne({ deliveryId, fromAttempt }).sort({ take: -1 }).lean<DeliveryRetryEntity>().exec();
    // A retry taken recently is in progress (or done): this one lost. An old one's holder died before rescheduling.
    if (latest && at.getTime() - latest.at.getTime() < RETRY_ABANDONED_MS) return undefined;
    const take = (latest?.take ?? 0) + 1;
    const _id = `${deliveryId}:${fromAttempt}:${take}`;
    const doc = {
      _id,
      deliveryId,
      fromAttempt,
      take,
      actorId,
      at,
      ...(entry && { pendingAudit: entry, auditPending: true }),
    };
    const [won] = await insertEach(() => this.retries.collection.insertOne(doc as never), 1);
    return won === true ? _id : undefined;
  }

  /** Takes an audit entry off its retry record, recorded or void (nobody else writes a retry record). */
  clearRetryAudit(id: string, key: string): Promise<void> {
    return this.retryAudits.clear(id, key);
  }

  /** Retry records that still carry their audit entry, at most `limit`. */
  async retriesCarryingAudit(limit: number): Promise<CarriedAudit[]> {
    const docs = await this.retryAudits.carrying<DeliveryRetryEntity>(limit);
    return docs.map((doc) => ({
      id: String(doc._id),
      pendingAudit: doc.pendingAudit,
      deliveryId: doc.deliveryId,
      fromAttempt: doc.fromAttempt,
      at: doc.at,
    }));
  }

  /** What tells whether a retry happened: the delivery's status, attempts and the retries that rescheduled it. */
  async findRetryState(id: string): Promise<{ status: string; attempts: number; retriedBy: readonly string[] } | undefined> {
    const doc = await this.model
      .findById(id, { status: 1, attempts: 1, retriedBy: 1 })
      .lean<{ status: string; attempts: number; retriedBy?: string[] }>()
      .exec();
    return doc ? { status: doc.status, attempts: doc.attempts, retriedBy: doc.retriedBy ?? [] } : undefined;
  }

  /**
   * tryRetry for many failures at once (a retry-failed request's look): one insert of their first retry
   * records; only a failure whose first record is taken already (another relay or an operator retrying it
   * right now, or a holder that died) is then tried alone, as tryRetry does. True where this caller now holds
   * the retry. Called only with deliveries seen FAILED after those attempts.
   */
  async tryRetries(
    failures: ReadonlyArray<{ deliveryId: string; fromAttempt: number }>,
    actorId: string,
    at: Date,
  ): Promise<boolean[]> {
    if (failures.length === 0) return [];
    const docs = failures.map(({ deliveryId, fromAttempt }) => ({
      _id: `${deliveryId}:${fromAttempt}:1`,
      deliveryId,
      fromAttempt,
      take: 1,
      actorId,
      at,
    }));
    const first = await insertEach(() => this.retries.collection.insertMany(docs as never[], { ordered: false }), docs.length);
    return fewAtATime(failures.entries(), async ([index, { deliveryId, fromAttempt }]) =>
      first[index] === true ? true : this.tryRetry(deliveryId, fromAttempt, actorId, at),
    );
  }

  /**
   * Makes these FAILED deliveries PENDING again, due at `now`, each with its retry schedule started over
   * (after the attempts it had), marked with the retry-failed request: one update per group with as many
   * attempts. Written only by the holder of each one's retry record (tryRetries), and only while the delivery
   * is still at the failure that record is for (`attempts`): a holder taken over as dead that writes late
   * must not reopen a later failure (the request already sent it once).
   */
  async reopenFailed(deliveries: readonly DeliveryRecord[], now: Date, retryRequestId: string): Promise<void> {
    const groups = groupAlike(deliveries.map((delivery) => [new Types.ObjectId(delivery.id), delivery.attempts] as const));
    await fewAtATime(groups, async ({ value: attempts, keys: ids }) => {
      await this.model
        .updateMany(
          { status: 'FAILED', attempts, _id: { $in: ids } },
          { $set: { status: 'PENDING', nextAttemptAt: now, retryBase: attempts, retryRequestId } },
        )
        .exec();
    });
  }

  /**
   * A FAILED delivery due again at `now`, its backoff schedule started over after `fromAttempt` attempts (the
   * failure the caller holds the retry record of); undefined when it is no longer at that failure: a holder
   * taken over as dead that writes late, after the new holder's attempt was DELIVERED or FAILED again, must
   * not make it PENDING (it would be sent again). `retryId`: the retry record, listed on the delivery by the same
   * update (`retriedBy`), so that whoever finds the retry's audit entry left on its record knows it happened.
   */
  async rescheduleFailed(id: string, now: Date, fromAttempt: number, retryId?: string): Promise<DeliveryRecord | undefined> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: new Types.ObjectId(id), status: 'FAILED', attempts: fromAttempt },
        {
          $set: { status: 'PENDING', nextAttemptAt: now, retryBase: fromAttempt },
          ...(retryId !== undefined && { $addToSet: { retriedBy: retryId } }),
        },
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
