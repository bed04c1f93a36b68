/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { WebhookEventType } from './WebhookEventType.js';
export type WebhookEndpointResponseDto = {
  createdAt: string;
  description?: string;
  /**
   * Why it stopped receiving, e.g. "the receiver answered 410 Gone"
   */
  disabledReason?: string;
  enabled: boolean;
  events: Array<WebhookEventType>;
  id: string;
  /**
   * After a rotation: until then every request also carries a signature with the previous secret
   */
  previousSecretExpiresAt?: string;
  updatedAt: string;
  url: string;
};
