/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { RewardType } from './RewardType.js';
export type RewardResponseDto = {
  /**
   * COUPON rewards; shown to staff only (OPERATOR, AUDITOR, ADMIN)
   */
  couponCode?: string;
  createdAt: string;
  eventId: string;
  id: string;
  itemCode?: string;
  name: string;
  /**
   * How much one grant gives
   */
  quantity: number;
  /**
   * Grants still available; null = unlimited. Counted at the moment for staff (OPERATOR, AUDITOR, ADMIN); for players a count shared between views, which shows a grant made through another replica within twice CLAIM_CATALOG_TTL_MS (2 s) plus the time two counts of the units take
   */
  remaining: number | null;
  /**
   * Total grants; null = unlimited
   */
  stock: number | null;
  type: RewardType;
};
