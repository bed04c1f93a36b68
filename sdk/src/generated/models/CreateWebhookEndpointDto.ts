/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { WebhookEventType } from './WebhookEventType.js';
export type CreateWebhookEndpointDto = {
  description?: string;
  events: Array<WebhookEventType>;
  /**
   * http or https
   */
  url: string;
};
