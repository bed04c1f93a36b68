/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type TokenPairResponseDto = {
  /**
   * RS256 JWT; send as `Authorization: Bearer <accessToken>`
   */
  accessToken: string;
  /**
   * Whole seconds until the access token expires
   */
  expiresIn: number;
  /**
   * Opaque; single use: each refresh returns a new one
   */
  refreshToken: string;
  tokenType: 'Bearer';
};
