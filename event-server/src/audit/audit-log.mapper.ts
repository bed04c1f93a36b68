import type { AuditLogRecord } from './audit-log.js';
import type { AuditLogEntity } from './audit-log.schema.js';
import { WEBHOOK_ENDPOINT_AUDIT_TARGET, withAuditedUrls } from '../webhooks/webhook-url.rules.js';

/** An audit entry's stored document, as a lean read returns it. */
export type StoredAuditLogEntry = AuditLogEntity & { _id: { toString(): string } };

export function toAuditLogRecord(doc: StoredAuditLogEntry): AuditLogRecord {
  return {
    id: doc._id.toString(),
    actorId: doc.actorId,
    action: doc.action,
    targetType: doc.targetType,
    targetId: doc.targetId,
    at: doc.at.toISOString(),
    // Entries of endpoints written before their URLs were audited as a fingerprint hold them whole.
    changes: doc.targetType === WEBHOOK_ENDPOINT_AUDIT_TARGET ? withAuditedUrls(doc.changes ?? {}) : (doc.changes ?? {}),
  };
}
