/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type JwkResponseDto = {
  alg: string;
  /**
   * RSA public exponent, base64url
   */
  e: string;
  /**
   * RFC 7638 thumbprint of the key; the `kid` header of access tokens
   */
  kid: string;
  kty: string;
  /**
   * RSA modulus, base64url
   */
  n: string;
  use: string;
};
