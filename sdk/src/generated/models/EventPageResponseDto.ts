/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { EventResponseDto } from './EventResponseDto.js';
export type EventPageResponseDto = {
  items: Array<EventResponseDto>;
  limit: number;
  page: number;
  total: number;
};
