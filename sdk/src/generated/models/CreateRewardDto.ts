/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { RewardType } from './RewardType.js';
export type CreateRewardDto = {
  /**
   * Required for COUPON rewards, refused for the others
   */
  couponCode?: string;
  /**
   * Required for ITEM rewards, refused for the others
   */
  itemCode?: string;
  /**
   * Stored trimmed; not only spaces or invisible characters
   */
  name: string;
  /**
   * How much one grant gives
   */
  quantity: number;
  /**
   * How many grants exist in total; absent = unlimited
   */
  stock?: number;
  type: RewardType;
};
