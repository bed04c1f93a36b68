/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * Why the claim was rejected
 */
export type ClaimReason =
  'EVENT_NOT_ACTIVE' | 'CONDITION_NOT_MET' | 'OUT_OF_STOCK' | 'ALREADY_CLAIMED' | 'INTERRUPTED' | 'REVIEW_REJECTED';
