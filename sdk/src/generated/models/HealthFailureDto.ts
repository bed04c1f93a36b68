/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ServiceStatesDto } from './ServiceStatesDto.js';
export type HealthFailureDto = {
  services: ServiceStatesDto;
};
