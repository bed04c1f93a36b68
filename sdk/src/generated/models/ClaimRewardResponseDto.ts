/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { RewardType } from './RewardType.js';
export type ClaimRewardResponseDto = {
  name: string;
  quantity: number;
  rewardId: string;
  type: RewardType;
};
