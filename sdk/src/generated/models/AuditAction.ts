/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type AuditAction =
  | 'EVENT_CREATED'
  | 'EVENT_UPDATED'
  | 'REWARD_CREATED'
  | 'REWARD_UPDATED'
  | 'CLAIM_APPROVED'
  | 'CLAIM_REJECTED'
  | 'CLAIM_REVOKED'
  | 'ACTIVITIES_IMPORTED'
  | 'WEBHOOK_ENDPOINT_CREATED'
  | 'WEBHOOK_ENDPOINT_UPDATED'
  | 'WEBHOOK_SECRET_ROTATED'
  | 'WEBHOOK_ENDPOINT_DELETED'
  | 'DELIVERY_RETRIED'
  | 'DELIVERIES_SEND_NOW_REQUESTED'
  | 'DELIVERIES_RETRY_FAILED_REQUESTED'
  | 'USER_ROLES_CHANGED'
  | 'USER_LOGGED_OUT_EVERYWHERE';
