/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { PayoutStatus } from './PayoutStatus.js';
export type ClaimPayoutResponseDto = {
  /**
   * Delivery attempts so far, over all its webhooks
   */
  attempts: number;
  /**
   * When the last of its webhooks was received
   */
  deliveredAt?: string;
  lastAttemptAt?: string;
  /**
   * Why the latest unsuccessful attempt failed; shown to staff (OPERATOR, AUDITOR, ADMIN) only: it quotes the game's receiver
   */
  lastError?: string;
  /**
   * NOT_REQUIRED when no webhook endpoint was subscribed to what happened to the claim
   */
  status: PayoutStatus;
};
