/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { UserResponseDto } from './UserResponseDto.js';
export type UserPageResponseDto = {
  items: Array<UserResponseDto>;
  limit: number;
  page: number;
  total: number;
};
