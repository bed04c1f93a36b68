import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { Model } from 'mongoose';
import type { QueryFilter } from 'mongoose';
import { AuditLogEntry } from './audit-log.schema.js';

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
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
}

type Lean = AuditLogEntry & { _id: { toString(): string } };

function toRecord(doc: Lean): AuditLogRecord {
  return {
    id: doc._id.toString(),
    actorId: doc.actorId,
    action: doc.action,
    targetType: doc.targetType,
    targetId: doc.targetId,
    at: doc.at.toISOString(),
    changes: doc.changes ?? {},
  };
}

@Injectable()
export class AuditLogRepository {
  constructor(@InjectModel(AuditLogEntry.name) private readonly model: Model<AuditLogEntry>) {}

  async insert(entry: Omit<AuditLogEntry, 'at'> & { at?: Date }): Promise<AuditLogRecord> {
    const created = await this.model.create({ ...entry, at: entry.at ?? new Date() });
    return toRecord(created.toObject() as Lean);
  }

  /** Inserts a reported entry unless its externalId is already recorded (the unique index decides). */
  async insertOnce(entry: Omit<AuditLogEntry, 'externalId'> & { externalId: string }): Promise<{ inserted: boolean }> {
    try {
      await this.model.create(entry);
      return { inserted: true };
    } catch (error) {
      if (isDuplicateKeyError(error)) return { inserted: false };
      throw error;
    }
  }

  async findPage(filter: AuditLogFilter, skip: number, limit: number): Promise<{ items: AuditLogRecord[]; total: number }> {
    const query: QueryFilter<AuditLogEntry> = {};
    if (filter.actorId) query.actorId = filter.actorId;
    if (filter.action) query.action = filter.action;
    if (filter.targetType) query.targetType = filter.targetType;
    if (filter.targetId) query.targetId = filter.targetId;
    if (filter.from || filter.to) {
      query.at = { ...(filter.from && { $gte: filter.from }), ...(filter.to && { $lte: filter.to }) };
    }
    const [docs, total] = await Promise.all([
      this.model.find(query).sort({ at: -1, _id: -1 }).skip(skip).limit(limit).lean<Lean[]>().exec(),
      this.model.countDocuments(query).exec(),
    ]);
    return { items: docs.map(toRecord), total };
  }
}
