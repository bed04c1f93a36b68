/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { RewardType } from './RewardType.js';
export type ClaimRewardResponseDto = {
  /**
   * A COUPON reward's coupon code, as the reward had it when the claim was made; shown to staff (OPERATOR, AUDITOR, ADMIN) and in the payout webhook only
   */
  couponCode?: string;
  /**
   * An ITEM reward's item code in the game, as the reward had it when the claim was made
   */
  itemCode?: string;
  name: string;
  quantity: number;
  rewardId: string;
  type: RewardType;
};
