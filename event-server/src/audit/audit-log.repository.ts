import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { AuditTargetType } from '@reward/server-kit/audit-actions';
import { type Model, type QueryFilter, mongo } from 'mongoose';
import type { AuditLogFilter, AuditLogRecord } from './audit-log.js';
import { type StoredAuditLogEntry, toAuditLogRecord } from './audit-log.mapper.js';
import { AuditLogEntity } from './audit-log.schema.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { readListPage } from '../common/list-read.js';

@Injectable()
export class AuditLogRepository {
  constructor(
    @InjectModel(AuditLogEntity.name) private readonly model: Model<AuditLogEntity>,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {}

  async insert(entry: Omit<AuditLogEntity, 'at'> & { at?: Date }): Promise<AuditLogRecord> {
    const created = await this.model.create({ ...entry, at: entry.at ?? new Date() });
    return toAuditLogRecord(created.toObject() as StoredAuditLogEntry);
  }

  /**
   * Inserts a reported entry unless its externalId is already recorded (the unique index decides). Written with
   * the driver, the document built here: its `changes` come from another server as parsed JSON, and Mongoose's
   * copy of a Mixed value reads a `constructor` key as the class to copy with (a 500, a regex, or the key
   * lost), drops empty objects and unwraps `{$__, _doc}` as a document. The driver stores them as sent.
   */
  async insertOnce(entry: Omit<AuditLogEntity, 'externalId'> & { externalId: string }): Promise<{ inserted: boolean }> {
    try {
      await this.model.collection.insertOne({
        _id: new mongo.ObjectId(),
        actorId: entry.actorId,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId,
        at: entry.at,
        changes: entry.changes,
        externalId: entry.externalId,
      });
      return { inserted: true };
    } catch (error) {
      if (isDuplicateKeyError(error)) return { inserted: false };
      throw error;
    }
  }

  async findPage(filter: AuditLogFilter, skip: number, limit: number): Promise<{ items: AuditLogRecord[]; total: number }> {
    const query: QueryFilter<AuditLogEntity> = {};
    if (filter.actorId) query.actorId = filter.actorId;
    if (filter.action) query.action = filter.action;
    if (filter.targetType) query.targetType = filter.targetType;
    const target = filter.targetId;
    // An equality where one form can match (the store can push it down); both forms only with no targetType.
    if (target) {
      const { written, lowerForIds } = target;
      if (lowerForIds === undefined || filter.targetType === AuditTargetType.ACTIVITY_IMPORT) query.targetId = written;
      else if (filter.targetType) query.targetId = lowerForIds;
      else query.$or = [{ targetId: written }, { targetId: lowerForIds, targetType: { $ne: AuditTargetType.ACTIVITY_IMPORT } }];
    }
    if (filter.from || filter.to) {
      query.at = { ...(filter.from && { $gte: filter.from }), ...(filter.to && { $lte: filter.to }) };
    }
    const { docs, total } = await readListPage(
      this.model.find(query).sort({ at: -1, _id: -1 }).skip(skip).limit(limit).lean<StoredAuditLogEntry[]>(),
      this.model.countDocuments(query),
      this.config.lists.readMaxMs,
      'actorId, action, targetType, targetId, from/to',
    );
    return { items: docs.map(toAuditLogRecord), total };
  }
}
