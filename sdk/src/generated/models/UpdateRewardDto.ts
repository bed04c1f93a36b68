/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type UpdateRewardDto = {
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
  name?: string;
  /**
   * How much one grant gives
   */
  quantity?: number;
  /**
   * A limited reward's new stock: at least its stock now (units granted stay granted)
   */
  stock?: number;
};
