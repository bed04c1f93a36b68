/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { WebhookEventType } from './WebhookEventType.js';
export type UpdateWebhookEndpointDto = {
  description?: string;
  /**
   * false stops deliveries to it: those pending end FAILED, and decisions made meanwhile are not sent to it. true sends the decisions made from then on; FAILED deliveries are sent again by POST /deliveries/{id}/retry
   */
  enabled?: boolean;
  events?: Array<WebhookEventType>;
  url?: string;
};
