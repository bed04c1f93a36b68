import type { AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';

export interface AuditLogRecord {
  id: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  at: string;
  changes: Record<string, unknown>;
}

export interface AuditLogFilter {
  actorId?: string;
  action?: AuditAction;
  targetType?: AuditTargetType;
  /** Any of these (targetIdForms). */
  targetId?: readonly string[];
  from?: Date;
  to?: Date;
}
