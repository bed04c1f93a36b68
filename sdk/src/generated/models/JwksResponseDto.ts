/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { JwkResponseDto } from './JwkResponseDto.js';
export type JwksResponseDto = {
  /**
   * The key new tokens are signed with first; during a rotation of the signing key also the next or the previous one. Pick a token's key by its `kid`; fetch the set again for a `kid` it lacks.
   */
  keys: Array<JwkResponseDto>;
};
