/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type ImportResultResponseDto = {
  /**
   * Already recorded under the same externalId, not recorded again
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
