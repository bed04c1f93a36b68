/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ImportConflictResponseDto } from './ImportConflictResponseDto.js';
export type ImportResultResponseDto = {
  /**
   * Present when some items were not recorded because their externalId is already recorded for another user or another activity type, in the request's order (received = inserted + duplicates + these)
   */
  conflicts?: Array<ImportConflictResponseDto>;
  /**
   * Already recorded under the same externalId, for the same user and type (a repeat), not recorded again
   */
  duplicates: number;
  /**
   * Newly recorded
   */
  inserted: number;
  /**
   * Activities in the request
   */
  received: number;
};
