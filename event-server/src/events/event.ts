import type { PendingAudit } from '../audit/audit-log.service.js';
import type { Condition } from '../conditions/condition.types.js';
import type { ApprovalMode, EventStatus } from './event.schema.js';

/** An event as the rest of the server sees it: plain data, string id. */
export interface EventRecord {
  id: string;
  title: string;
  description?: string;
  startAt: Date;
  endAt: Date;
  status: EventStatus;
  approval: ApprovalMode;
  timezone: string;
  condition: Condition;
  createdBy: string;
  /**
   * Who created or changed the event or its rewards: none of them claims it (they could have made it theirs).
   * Not shown by the API; the audit log says who changed what.
   */
  editorIds: string[];
  /** A change's audit entry not recorded yet (see PendingAudit); not shown by the API. */
  pendingAudit?: PendingAudit;
  createdAt: Date;
  updatedAt: Date;
}

export type EventFields = Omit<EventRecord, 'id' | 'createdAt' | 'updatedAt' | 'createdBy' | 'editorIds' | 'pendingAudit'>;
