/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * At least `count` activities of type `activity` within the event period
 */
export type ActivityCountCondition = {
  activity: string;
  count: number;
  type: 'ACTIVITY_COUNT';
};
