import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { PendingAudit } from '../audit/audit-log.service.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from './payout.rules.js';

export class DeliveryAttemptEntity {
  @Prop({ required: true }) attempt!: number;
  @Prop({ required: true }) at!: Date;
  @Prop() statusCode?: number;
  @Prop({ required: true }) latencyMs!: number;
  @Prop() error?: string;
}

/**
 * One webhook of one claim decision to one endpoint. Unique on (decisionId, endpointId): the outbox can be
 * expanded twice (two relays, a crash in between) and still records each delivery once.
 */
@Schema({ collection: 'payout_deliveries', versionKey: false })
export class DeliveryEntity {
  @Prop({ required: true }) decisionId!: string;
  @Prop({ required: true }) endpointId!: string;
  @Prop({ required: true }) claimId!: string;
  @Prop({ required: true }) type!: string;
  /** The `webhook-id` header: the same on every attempt, the receiver's dedupe key. */
  @Prop({ required: true }) webhookId!: string;
  /** The exact JSON sent on every attempt. */
  @Prop({ required: true }) body!: string;
  @Prop({ type: String, required: true, enum: DELIVERY_STATUSES }) status!: DeliveryStatus;
  @Prop({ required: true }) attempts!: number;
  /** Attempts made before the latest manual retry: the backoff schedule starts again from there. */
  @Prop({ required: true }) retryBase!: number;
  @Prop({ required: true }) nextAttemptAt!: Date;
  @Prop() lastAttemptAt?: Date;
  @Prop() lastStatusCode?: number;
  @Prop() lastError?: string;
  @Prop() deliveredAt?: Date;
  /** The latest send-now request an attempt of this delivery was made for (DeliverySendRequestEntity's id). */
  @Prop() sendRequestId?: string;
  /** The latest retry-failed request that made it PENDING again (a DeliverySendRequestEntity's id). */
  @Prop() retryRequestId?: string;
  /**
   * The retry records (DeliveryRetryEntity's ids) of the manual retries that made it PENDING again, each written by
   * the retry's own update: what tells the sweep that a retry whose audit entry is still on its record happened.
   */
  @Prop({ type: [String], default: undefined }) retriedBy?: string[];
  /**
   * Attempts made before the attempts log existed (deliveries recorded then kept their log and latency
   * here); later attempts are in payout_delivery_attempts only.
   */
  @Prop({ type: [DeliveryAttemptEntity], _id: false, default: undefined }) log?: DeliveryAttemptEntity[];
  @Prop() lastLatencyMs?: number;
  @Prop({ required: true }) createdAt!: Date;
}

export const DeliverySchema = SchemaFactory.createForClass(DeliveryEntity);
DeliverySchema.index({ decisionId: 1, endpointId: 1 }, { unique: true });
// The relay's due query: status is an equality (pushed down on FerretDB), the time is compared after.
DeliverySchema.index({ status: 1, nextAttemptAt: 1 });
DeliverySchema.index({ claimId: 1 });
DeliverySchema.index({ endpointId: 1, createdAt: -1, _id: -1 });
// A retry-failed request's look: an endpoint's FAILED deliveries, oldest first (DeliveryRepository.findFailedOwedTo).
DeliverySchema.index({ endpointId: 1, status: 1, createdAt: 1 });
DeliverySchema.index({ status: 1, createdAt: -1, _id: -1 });
DeliverySchema.index({ createdAt: -1, _id: -1 });

/**
 * One attempt of one delivery, insert-only: `_id` is `<deliveryId>:<N>`, so a repeat (an attempt recorded
 * again after a crash) is refused and the first answer stays. The delivery itself keeps only its status
 * and the fields its list filters and the claim's summary need, so that a round's attempts that ended
 * alike are recorded by one update of many deliveries, not one update each.
 */
@Schema({ collection: 'payout_delivery_attempts', versionKey: false })
export class DeliveryAttemptLogEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) deliveryId!: string;
  @Prop({ required: true }) attempt!: number;
  @Prop({ required: true }) at!: Date;
  @Prop() statusCode?: number;
  @Prop({ required: true }) latencyMs!: number;
  @Prop() error?: string;
}

export const DeliveryAttemptLogSchema = SchemaFactory.createForClass(DeliveryAttemptLogEntity);
DeliveryAttemptLogSchema.index({ deliveryId: 1, attempt: 1 });

/**
 * Who sends attempt N of a delivery: `_id` is `<deliveryId>:<N>`, so of two relays (replicas) only one
 * insert succeeds and only that one sends. A lease whose holder died is recognised by its age. The holder
 * removes its lease once the attempt is recorded, so the collection holds only attempts in flight; a relay
 * that wins a lease re-reads the delivery before sending (a lease of an attempt already recorded and
 * removed can be taken again, and must then send nothing).
 */
@Schema({ collection: 'payout_delivery_leases', versionKey: false })
export class DeliveryLeaseEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) at!: Date;
}

export const DeliveryLeaseSchema = SchemaFactory.createForClass(DeliveryLeaseEntity);

/**
 * One retry of a FAILED delivery (manual, or for a retry-failed request): `_id` is
 * `<deliveryId>:<fromAttempt>:<take>`, where `fromAttempt` is the number of attempts the delivery had when it
 * failed. Of concurrent retries of one failure (operators, relays of several replicas) only one insert
 * succeeds and only that one reschedules the delivery (a conditional update would not decide it on
 * FerretDB). `take` is 1, or one more when the previous holder died before rescheduling (found by its age).
 */
@Schema({ collection: 'payout_delivery_retries', versionKey: false })
export class DeliveryRetryEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) deliveryId!: string;
  @Prop({ required: true }) fromAttempt!: number;
  @Prop({ required: true }) take!: number;
  @Prop({ required: true }) actorId!: string;
  @Prop({ required: true }) at!: Date;
  /**
   * A manual retry's audit entry, inserted with the record (PendingAudit) and taken off once recorded: a retry whose
   * entry the store failed to record, or whose process died first, is recorded by PayoutAuditSweep if the delivery
   * lists the record in `retriedBy` (the retry happened), and dropped unrecorded if it did not.
   */
  @Prop({ type: Object }) pendingAudit?: PendingAudit;
  /** True while `pendingAudit` is on the record: an equality FerretDB filters in the database (the sweep's look). */
  @Prop() auditPending?: boolean;
}

export const DeliveryRetrySchema = SchemaFactory.createForClass(DeliveryRetryEntity);
DeliveryRetrySchema.index({ deliveryId: 1, fromAttempt: 1, take: -1 });
DeliveryRetrySchema.index({ auditPending: 1 }, { sparse: true });

/**
 * An operator's request to send an endpoint's pending deliveries now, not at their next retry time (after
 * the receiver came back from an outage). Insert-only: the relays send each delivery of that endpoint last
 * attempted before `at` and not yet attempted for this request as its next attempt (its lease insert still
 * decides who sends); that attempt's own write marks the delivery (`sendRequestId`) and starts its retry
 * schedule over.
 *
 * With `kind: RETRY_FAILED` (absent: send-pending), a request to send the endpoint's FAILED deliveries last
 * attempted before `at` again: the relays make each PENDING again as a manual retry does (a retry record's
 * unique insert decides who, DeliveryRetryEntity), marked with the request (`retryRequestId`), a few per round,
 * and send them at the endpoint's share.
 */
@Schema({ collection: 'payout_send_requests', versionKey: false })
export class DeliverySendRequestEntity {
  @Prop({ required: true }) endpointId!: string;
  @Prop({ required: true }) actorId!: string;
  @Prop({ required: true }) at!: Date;
  @Prop({ type: String }) kind?: 'RETRY_FAILED';
  /**
   * The request's audit entry, inserted with it (PendingAudit) and taken off once recorded: one the store failed to
   * record, or whose process died first, is recorded by PayoutAuditSweep (the request is the change: it stands).
   */
  @Prop({ type: Object }) pendingAudit?: PendingAudit;
  /** True while `pendingAudit` is on the request (the sweep's look; the prune keeps such a request). */
  @Prop() auditPending?: boolean;
}

export const DeliverySendRequestSchema = SchemaFactory.createForClass(DeliverySendRequestEntity);
DeliverySendRequestSchema.index({ at: -1 });
DeliverySendRequestSchema.index({ auditPending: 1 }, { sparse: true });

/**
 * Who recomputes a claim's payout summary right now: `_id` is the claim id. Holders run one after another,
 * so the last summary written was computed after every delivery change before it (a later change's relay
 * waits for the lease and recomputes). Removed when done; one whose holder died is removed by its age.
 */
@Schema({ collection: 'payout_summary_leases', versionKey: false })
export class PayoutSummaryLeaseEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) at!: Date;
}

export const PayoutSummaryLeaseSchema = SchemaFactory.createForClass(PayoutSummaryLeaseEntity);
