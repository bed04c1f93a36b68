/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * Logged in on `days` consecutive local days within the event period
 */
export type LoginStreakCondition = {
  days: number;
  type: 'LOGIN_STREAK';
};
