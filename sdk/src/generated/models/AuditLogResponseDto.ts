/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { AuditAction } from './AuditAction.js';
import type { AuditTargetType } from './AuditTargetType.js';
export type AuditLogResponseDto = {
  action: AuditAction;
  /**
   * Who made the change
   */
  actorId: string;
  at: string;
  /**
   * What changed: for each field, `{before, after}` (or the facts of the action; see docs/api-rules.md)
   */
  changes: Record<string, any>;
  id: string;
  targetId: string;
  targetType: AuditTargetType;
};
