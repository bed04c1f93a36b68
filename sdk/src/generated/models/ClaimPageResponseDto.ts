/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ClaimResponseDto } from './ClaimResponseDto.js';
export type ClaimPageResponseDto = {
  items: Array<ClaimResponseDto>;
  limit: number;
  page: number;
  total: number;
};
