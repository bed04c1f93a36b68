/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ApprovalMode } from './ApprovalMode.js';
import type { Condition } from './Condition.js';
import type { EventStatus } from './EventStatus.js';
import type { RewardResponseDto } from './RewardResponseDto.js';
export type EventDetailResponseDto = {
  approval: ApprovalMode;
  condition: Condition;
  createdAt: string;
  /**
   * Id of the user who created the event
   */
  createdBy: string;
  description?: string;
  endAt: string;
  id: string;
  rewards: Array<RewardResponseDto>;
  startAt: string;
  status: EventStatus;
  timezone: string;
  title: string;
  updatedAt: string;
};
