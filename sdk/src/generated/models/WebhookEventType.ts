/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type WebhookEventType = 'claim.granted' | 'claim.revoked' | 'claim.pending' | 'claim.rejected';
