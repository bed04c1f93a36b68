/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { WebhookEndpointResponseDto } from './WebhookEndpointResponseDto.js';
export type WebhookEndpointPageResponseDto = {
  items: Array<WebhookEndpointResponseDto>;
  limit: number;
  page: number;
  total: number;
};
