/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type SendPendingResponseDto = {
  endpointId: string;
  /**
   * The endpoint's PENDING deliveries when the request was made (those never attempted are due anyway), counted up to 10,000 (10,000 means at least that many)
   */
  pending: number;
  /**
   * Deliveries last attempted before this time are sent now
   */
  requestedAt: string;
};
