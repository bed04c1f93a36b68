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

/** Attempt `attempt` of a delivery: whoever inserts its lease first sends it. */
export interface LeaseKey {
  deliveryId: string;
  attempt: number;
}

/** What one attempt changes on its delivery. */
export interface AttemptUpdate {
  attempt: DeliveryAttempt;
  status: DeliveryStatus;
  nextAttemptAt?: Date;
  deliveredAt?: Date;
}
