/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * Logged in on at least `days` distinct local days within the event period
 */
export type LoginDaysCondition = {
  days: number;
  type: 'LOGIN_DAYS';
};
