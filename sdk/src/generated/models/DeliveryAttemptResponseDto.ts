/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type DeliveryAttemptResponseDto = {
  at: string;
  attempt: number;
  error?: string;
  /**
   * Milliseconds from sending to the answer (or the failure)
   */
  latencyMs: number;
  /**
   * The receiver's status code (absent: no answer)
   */
  statusCode?: number;
};
