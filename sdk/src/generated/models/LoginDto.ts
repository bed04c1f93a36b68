/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type LoginDto = {
  email: string;
  /**
   * No control characters (no account can have them)
   */
  password: string;
};
