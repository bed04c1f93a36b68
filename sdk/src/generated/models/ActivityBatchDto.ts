/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ActivityInputDto } from './ActivityInputDto.js';
export type ActivityBatchDto = {
  items: Array<ActivityInputDto>;
};
