import type { Types } from 'mongoose';
import type { DeliveryResponseDto } from './dto/delivery-response.dto.js';
import type { DeliveryAttempt, DeliveryRecord, DeliveryWithAttempts } from './delivery.js';
import type { DeliveryAttemptLogEntity, DeliveryEntity } from './delivery.schema.js';

/** A delivery's stored document, as a lean read returns it. */
export type StoredDelivery = DeliveryEntity & { _id: Types.ObjectId };

function toAttempt(entry: Omit<DeliveryAttemptLogEntity, '_id' | 'deliveryId'>): DeliveryAttempt {
  return {
    attempt: entry.attempt,
    at: entry.at,
    ...(entry.statusCode != null && { statusCode: entry.statusCode }),
    latencyMs: entry.latencyMs,
    ...(entry.error != null && { error: entry.error }),
  };
}

/** The delivery with its attempts: those kept on the document before the attempts log, then the log's. */
export function withAttempts(doc: StoredDelivery, logged: readonly DeliveryAttemptLogEntity[]): DeliveryWithAttempts {
  const byNumber = new Map<number, DeliveryAttempt>();
  for (const entry of [...(doc.log ?? []), ...logged])
    if (!byNumber.has(entry.attempt)) byNumber.set(entry.attempt, toAttempt(entry));
  return { ...toDelivery(doc), log: [...byNumber.values()].sort((a, b) => a.attempt - b.attempt) };
}

export function toDelivery(doc: StoredDelivery): DeliveryRecord {
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
    ...(doc.lastError != null && { lastError: doc.lastError }),
    ...(doc.deliveredAt != null && { deliveredAt: doc.deliveredAt }),
    ...(doc.sendRequestId != null && { sendRequestId: doc.sendRequestId }),
    ...(doc.retryRequestId != null && { retryRequestId: doc.retryRequestId }),
    createdAt: doc.createdAt,
  };
}

/** A delivery as the API shows it (its signed body stays inside). */
export function toDeliveryResponse(delivery: DeliveryWithAttempts): DeliveryResponseDto {
  const lastLatencyMs = delivery.log.at(-1)?.latencyMs;
  return {
    id: delivery.id,
    claimId: delivery.claimId,
    endpointId: delivery.endpointId,
    type: delivery.type,
    webhookId: delivery.webhookId,
    status: delivery.status,
    attempts: delivery.attempts,
    ...(delivery.status === 'PENDING' && { nextAttemptAt: delivery.nextAttemptAt.toISOString() }),
    ...(delivery.lastAttemptAt && { lastAttemptAt: delivery.lastAttemptAt.toISOString() }),
    ...(delivery.lastStatusCode !== undefined && { lastStatusCode: delivery.lastStatusCode }),
    ...(lastLatencyMs !== undefined && { lastLatencyMs }),
    ...(delivery.lastError !== undefined && { lastError: delivery.lastError }),
    ...(delivery.deliveredAt && { deliveredAt: delivery.deliveredAt.toISOString() }),
    attemptLog: delivery.log.map((entry) => ({
      attempt: entry.attempt,
      at: entry.at.toISOString(),
      ...(entry.statusCode !== undefined && { statusCode: entry.statusCode }),
      latencyMs: entry.latencyMs,
      ...(entry.error !== undefined && { error: entry.error }),
    })),
    createdAt: delivery.createdAt.toISOString(),
  };
}
