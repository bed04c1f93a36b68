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

/** A targetId as asked (targetIdFilter): `written` matches any entry, `lowerForIds` any but an import's. */
export interface AuditTargetIdFilter {
  written: string;
  lowerForIds?: string;
}

export interface AuditLogFilter {
  actorId?: string;
  action?: AuditAction;
  targetType?: AuditTargetType;
  targetId?: AuditTargetIdFilter;
  from?: Date;
  to?: Date;
}
