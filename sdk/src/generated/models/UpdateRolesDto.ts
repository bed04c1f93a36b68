/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { Role } from './Role.js';
export type UpdateRolesDto = {
  /**
   * Replaces the user's roles
   */
  roles: Array<Role>;
};
