/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type AuditTargetType = 'EVENT' | 'REWARD' | 'CLAIM' | 'ACTIVITY_IMPORT' | 'WebhookEndpoint' | 'Delivery' | 'USER';
