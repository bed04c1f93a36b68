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
  lastError?: string;
  deliveredAt?: Date;
  /** The latest send-now request an attempt was made for. */
  sendRequestId?: string;
  /** The latest retry-failed request that made it PENDING again (no later look for that request finds it). */
  retryRequestId?: string;
  createdAt: Date;
}

/** A delivery with its attempts, oldest first (what the API shows; the relay never reads the log). */
export interface DeliveryWithAttempts extends DeliveryRecord {
  log: DeliveryAttempt[];
}

export type NewDelivery = Omit<DeliveryRecord, 'id'>;

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
  /** Set when the attempt was made for a send-now request: the retry schedule starts over. */
  retryBase?: number;
  /**
   * The send-now request the attempt was made for: no later look for that request finds the delivery again,
   * whatever the replicas' clocks say (its attempts after this one keep the mark).
   */
  sendRequestId?: string;
}

/**
 * What an operator asks of an endpoint's deliveries last attempted before a time: SEND_PENDING, that the
 * PENDING ones be sent now (send-pending); RETRY_FAILED, that the FAILED ones be sent again (retry-failed).
 */
export type SendRequestKind = 'SEND_PENDING' | 'RETRY_FAILED';

/** An operator's request about an endpoint's deliveries last attempted before `at` (see SendRequestKind). */
export interface SendRequest {
  id: string;
  endpointId: string;
  at: Date;
  kind: SendRequestKind;
  /** Who asked (a retry-failed request's retries are recorded under their name). */
  actorId: string;
}
