/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { JwkResponseDto } from './JwkResponseDto.js';
export type JwksResponseDto = {
  keys: Array<JwkResponseDto>;
};
