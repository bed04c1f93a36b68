/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { AuditLogResponseDto } from './AuditLogResponseDto.js';
export type AuditLogPageResponseDto = {
  items: Array<AuditLogResponseDto>;
  limit: number;
  page: number;
  total: number;
};
