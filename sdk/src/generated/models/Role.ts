/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * Replaces the user's roles
 */
export type Role = 'USER' | 'OPERATOR' | 'AUDITOR' | 'ADMIN';
