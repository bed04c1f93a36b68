/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { DeliveryResponseDto } from './DeliveryResponseDto.js';
export type DeliveryPageResponseDto = {
  items: Array<DeliveryResponseDto>;
  limit: number;
  page: number;
  total: number;
};
