/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type SendPendingResponseDto = {
  endpointId: string;
  /**
   * The endpoint's PENDING deliveries when the request was made (those never attempted are due anyway)
   */
  pending: number;
  /**
   * Deliveries last attempted before this time are sent now
   */
  requestedAt: string;
};
