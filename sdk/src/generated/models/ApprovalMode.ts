/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * MANUAL: claims wait for an OPERATOR
 */
export type ApprovalMode = 'AUTO' | 'MANUAL';
