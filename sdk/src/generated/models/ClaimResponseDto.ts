/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ClaimPayoutResponseDto } from './ClaimPayoutResponseDto.js';
import type { ClaimReason } from './ClaimReason.js';
import type { ClaimRewardResponseDto } from './ClaimRewardResponseDto.js';
import type { ClaimStatus } from './ClaimStatus.js';
export type ClaimResponseDto = {
  createdAt: string;
  /**
   * When the claim was decided; absent while it is PENDING
   */
  decidedAt?: string;
  /**
   * Id of the reviewer (absent for decisions the system made)
   */
  decidedBy?: string;
  eventId: string;
  id: string;
  /**
   * The reviewer's note (reject, revoke)
   */
  note?: string;
  /**
   * Delivery of the claim's webhooks to the game
   */
  payout: ClaimPayoutResponseDto;
  /**
   * Why the claim was rejected
   */
  reason?: ClaimReason;
  /**
   * What the claim grants (a copy taken when it was made)
   */
  rewards: Array<ClaimRewardResponseDto>;
  status: ClaimStatus;
  userId: string;
};
