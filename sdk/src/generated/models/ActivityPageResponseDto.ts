/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ActivityResponseDto } from './ActivityResponseDto.js';
export type ActivityPageResponseDto = {
  items: Array<ActivityResponseDto>;
  limit: number;
  page: number;
  total: number;
};
