/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * Only ACTIVE events can be claimed
 */
export type EventStatus = 'ACTIVE' | 'INACTIVE';
