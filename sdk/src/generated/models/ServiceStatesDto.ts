/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type ServiceStatesDto = {
  auth: 'up' | 'down';
  event: 'up' | 'down';
};
