import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type Model, Types } from 'mongoose';
import type { AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { type Page, skipOf } from '@reward/server-kit/pagination';
import { freeFormProblem } from '../common/free-form.rules.js';
import type { AuditLogFilter, AuditLogRecord } from './audit-log.js';
import { AuditLogRepository } from './audit-log.repository.js';

/** What changed: for each field, its value before and after. */
export type AuditChanges = Record<string, { before: unknown; after: unknown }>;

export interface AuditEntryInput {
  actorId: string;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  changes: AuditChanges | Record<string, unknown>;
}

/**
 * A staff change's audit entry, written onto the changed document in the same write as the change (one document
 * write lands whole or not at all), then recorded (AuditLogService.recordPending) and taken off the document. A
 * change whose entry could not be recorded after its write (the store failed, the process died in between) keeps
 * it on the document, and whoever comes next records it, once (its `key`): the same change sent again, the
 * document's next change, or PendingAuditSweep. Before, such a change stood with no entry for good: sent again,
 * it found nothing left to change.
 */
export interface PendingAudit extends AuditEntryInput {
  key: string;
  /** When the change was made (the entry says so, however late it is recorded). */
  at: Date;
}

/** The entry of a change about to be written, to go onto the document with it (see PendingAudit). */
export function pendingAudit(entry: AuditEntryInput): PendingAudit {
  return { ...entry, key: randomUUID(), at: new Date() };
}

/**
 * A new document's `_id` and its creation's entry (`entryFor`, given that id: PendingAudit), to go into its insert,
 * so that it never stands without its entry (without `entryFor`, as a test's seed, none).
 */
export function withCreationEntry(entryFor?: (id: string) => PendingAudit): {
  _id: Types.ObjectId;
  pendingAudit?: PendingAudit;
} {
  const _id = new Types.ObjectId();
  const pendingAudit = entryFor?.(_id.toHexString());
  return { _id, ...(pendingAudit && { pendingAudit }) };
}

/**
 * Records the entry of a document's last change if it is still on it (PendingAudit), then takes it off (`store`);
 * under the document's edit lock (`lease`), as every change of it.
 */
export async function recordPendingAudit(
  document: { id: string; pendingAudit?: PendingAudit },
  auditLog: AuditLogService,
  store: { clearPendingAudit(id: string, key: string): Promise<void> },
  lease: { assertHeld(): void },
): Promise<void> {
  const pending = document.pendingAudit;
  if (!pending) return;
  await auditLog.recordPending(pending);
  lease.assertHeld();
  await store.clearPendingAudit(document.id, pending.key);
}

/**
 * The store calls of a collection whose documents carry PendingAudit (events, rewards, webhook endpoints and their
 * removals, payout's send requests and retry records): taking a recorded entry off a document (`clear`, under its
 * edit lock where it has one, as every change of it), and those that still carry one, at most `limit` (`carrying`,
 * the sweeps': the whole documents; `idsCarrying`: their ids). `flagged`: a document that carries an entry also
 * carries `auditPending: true` (set with the entry by its insert), an equality FerretDB pushes down to PostgreSQL
 * where `pendingAudit: { $exists: true }` decodes every document of the collection: for collections that grow
 * (payout's); both are taken off together.
 */
export function pendingAuditStore<T>(
  model: Model<T>,
  { flagged = false }: { flagged?: boolean } = {},
): {
  clear(id: string, key: string): Promise<void>;
  carrying<D>(limit: number): Promise<Array<D & { _id: unknown; pendingAudit: PendingAudit }>>;
  idsCarrying(limit: number): Promise<string[]>;
} {
  const filter = flagged ? { auditPending: true } : { pendingAudit: { $exists: true } };
  const unset = flagged ? { pendingAudit: 1, auditPending: 1 } : { pendingAudit: 1 };
  const find = <D>(limit: number, projection?: Record<string, 1>) =>
    model.find(filter, projection).limit(limit).lean<Array<D & { _id: unknown; pendingAudit: PendingAudit }>>().exec();
  return {
    async clear(id, key) {
      // Bookkeeping, not a change: the document's updatedAt stays the change's (the one its answer gave).
      await model.updateOne({ _id: id, 'pendingAudit.key': key }, { $unset: unset }, { timestamps: false }).exec();
    },
    async carrying<D>(limit: number) {
      // A flag without its entry (never written so, but cheap to tell) is nothing to record.
      return (await find<D>(limit)).filter((doc) => doc.pendingAudit !== undefined);
    },
    async idsCarrying(limit) {
      return (await find(limit, { _id: 1 })).map((doc) => String(doc._id));
    },
  };
}

/** Before/after of the fields that differ (compared by value, so dates and objects compare right). */
export function diffFields(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
  fields?: readonly string[],
): AuditChanges {
  const changes: AuditChanges = {};
  for (const field of fields ?? Object.keys(after)) {
    const was = before?.[field];
    const now = after[field];
    if (JSON.stringify(was) !== JSON.stringify(now)) changes[field] = { before: was ?? null, after: now ?? null };
  }
  return changes;
}

/** The one place every staff change is recorded (events, rewards, activity imports, claim decisions). */
@Injectable()
export class AuditLogService {
  constructor(private readonly repository: AuditLogRepository) {}

  record(entry: AuditEntryInput): Promise<AuditLogRecord> {
    return this.repository.insert(entry);
  }

  /**
   * An entry that more than one request may write for one change (`once`: what names the change, say a
   * decision's id): the first is kept, the others record nothing (the unique externalId decides). `at`: when
   * the change was made (now unless given: a decision's entry written later says when it was decided).
   */
  recordOnce(entry: AuditEntryInput, once: string, at: Date = new Date()): Promise<{ inserted: boolean }> {
    return this.repository.insertOnce({ ...entry, at, externalId: once });
  }

  /** A change's entry carried on its document (PendingAudit): recorded once, whoever records it. */
  recordPending(pending: PendingAudit): Promise<{ inserted: boolean }> {
    const { key, at, actorId, action, targetType, targetId, changes } = pending;
    return this.recordOnce({ actorId, action, targetType, targetId, changes }, `change:${key}`, new Date(at));
  }

  /**
   * An entry reported by another server (its role changes); redelivery records nothing new. Its changes are
   * stored as sent, so what no store keeps as sent (`$` or dotted keys, arrays in arrays, 1e309) is a 400.
   */
  async recordReported(entry: AuditEntryInput & { at: Date; externalId: string }): Promise<{ inserted: boolean }> {
    const problem = freeFormProblem(entry.changes);
    if (problem) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, [`changes ${problem}`]);
    return this.repository.insertOnce({ ...entry, changes: entry.changes as Record<string, unknown> });
  }

  async list(filter: AuditLogFilter, page: { page: number; limit: number }): Promise<Page<AuditLogRecord>> {
    const { items, total } = await this.repository.findPage(filter, skipOf(page), page.limit);
    return { items, page: page.page, limit: page.limit, total };
  }
}
