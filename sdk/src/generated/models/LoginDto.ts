/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type LoginDto = {
  email: string;
  /**
   * Compared in Unicode NFC (also as typed, for a password chosen before passwords were normalised); no control characters (no account can have them)
   */
  password: string;
};
