/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ApprovalMode } from './ApprovalMode.js';
import type { Condition } from './Condition.js';
import type { EventStatus } from './EventStatus.js';
export type CreateEventDto = {
  /**
   * MANUAL: claims wait for an OPERATOR
   */
  approval: ApprovalMode;
  condition: Condition;
  description?: string;
  /**
   * At most 1830 days after startAt
   */
  endAt: string;
  /**
   * Before endAt; with its zone (Z or an offset)
   */
  startAt: string;
  /**
   * Only ACTIVE events can be claimed
   */
  status: EventStatus;
  /**
   * IANA time zone
   */
  timezone?: string;
  /**
   * Stored trimmed; not only spaces or invisible characters
   */
  title: string;
};
