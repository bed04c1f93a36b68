/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type ImportConflictResponseDto = {
  externalId: string;
  /**
   * The item's place in the request (0 for a single activity)
   */
  index: number;
};
