/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * NOT_REQUIRED when no webhook endpoint was subscribed to what happened to the claim
 */
export type PayoutStatus = 'NOT_REQUIRED' | 'PENDING' | 'DELIVERED' | 'FAILED';
