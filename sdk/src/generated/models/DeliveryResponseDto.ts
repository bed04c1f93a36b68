/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { DeliveryAttemptResponseDto } from './DeliveryAttemptResponseDto.js';
import type { DeliveryStatus } from './DeliveryStatus.js';
import type { WebhookEventType } from './WebhookEventType.js';
export type DeliveryResponseDto = {
  /**
   * Every attempt, oldest first
   */
  attemptLog: Array<DeliveryAttemptResponseDto>;
  attempts: number;
  claimId: string;
  createdAt: string;
  deliveredAt?: string;
  endpointId: string;
  id: string;
  lastAttemptAt?: string;
  lastError?: string;
  lastLatencyMs?: number;
  lastStatusCode?: number;
  /**
   * When the next attempt is due (PENDING only)
   */
  nextAttemptAt?: string;
  status: DeliveryStatus;
  type: WebhookEventType;
  /**
   * The `webhook-id` header, the same on every attempt (the receiver dedupes by it)
   */
  webhookId: string;
};
