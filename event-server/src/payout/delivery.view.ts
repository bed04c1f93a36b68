import type { DeliveryRecord } from './delivery.repository.js';

export interface DeliveryView {
  id: string;
  claimId: string;
  endpointId: string;
  type: string;
  webhookId: string;
  status: string;
  attempts: number;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastStatusCode?: number;
  lastLatencyMs?: number;
  lastError?: string;
  deliveredAt?: string;
  attemptLog: Array<{ attempt: number; at: string; statusCode?: number; latencyMs: number; error?: string }>;
  createdAt: string;
}

export function toDeliveryView(delivery: DeliveryRecord): DeliveryView {
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
    ...(delivery.lastLatencyMs !== undefined && { lastLatencyMs: delivery.lastLatencyMs }),
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
