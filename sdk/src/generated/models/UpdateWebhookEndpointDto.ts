/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { WebhookEventType } from './WebhookEventType.js';
export type UpdateWebhookEndpointDto = {
  description?: string;
  /**
   * false stops deliveries to it; true starts them again
   */
  enabled?: boolean;
  events?: Array<WebhookEventType>;
  url?: string;
};
