/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type AuditLogResponseDto = {
  action: string;
  /**
   * Who made the change
   */
  actorId: string;
  at: string;
  /**
   * What changed: for each field, `{before, after}` (or the facts of the action)
   */
  changes: Record<string, any>;
  id: string;
  targetId: string;
  targetType: string;
};
