/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type RetryFailedResponseDto = {
  endpointId: string;
  /**
   * The endpoint's FAILED deliveries when the request was made, counted up to 10,000 (10,000 means at least that many)
   */
  failed: number;
  /**
   * FAILED deliveries last attempted before this time are sent again
   */
  requestedAt: string;
};
