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
   * What is wrong; a list of messages for validation errors
   */
  message: string | Array<string>;
  statusCode: number;
};
