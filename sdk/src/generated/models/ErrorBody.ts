/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * The error body every server and the gateway answer with
 */
export type ErrorBody = {
  /**
   * Machine-readable error code
   */
  code: string;
  error: string;
  /**
   * What is wrong; for validation errors a list of messages: at most 100, then one line counting the rest
   */
  message: string | Array<string>;
  /**
   * On answers that say when to come back (429, 503, a claim's 409 IDEMPOTENCY_IN_PROGRESS): the same seconds as the Retry-After header
   */
  retryAfterSeconds?: number;
  statusCode: number;
};
