import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, QueryFilter } from 'mongoose';
import type { Condition } from '../conditions/condition.types.js';
import { type ApprovalMode, EventEntity, type EventStatus } from './event.schema.js';

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
  createdAt: Date;
  updatedAt: Date;
}

export type EventFields = Omit<EventRecord, 'id' | 'createdAt' | 'updatedAt' | 'createdBy'>;

type Lean = EventEntity & { _id: { toString(): string } };

function toRecord(doc: Lean): EventRecord {
  return {
    id: doc._id.toString(),
    title: doc.title,
    ...(doc.description !== undefined && { description: doc.description }),
    startAt: doc.startAt,
    endAt: doc.endAt,
    status: doc.status,
    approval: doc.approval,
    timezone: doc.timezone,
    condition: doc.condition,
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

@Injectable()
export class EventRepository {
  constructor(@InjectModel(EventEntity.name) private readonly model: Model<EventEntity>) {}

  async create(fields: EventFields & { createdBy: string }): Promise<EventRecord> {
    const created = await this.model.create(fields);
    return toRecord(created.toObject() as Lean);
  }

  async findById(id: string): Promise<EventRecord | undefined> {
    const doc = await this.model.findById(id).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  /** Replaces the editable fields (the service has validated the merged event as a whole). */
  async replaceFields(id: string, fields: EventFields): Promise<EventRecord | undefined> {
    const unset = fields.description === undefined ? { $unset: { description: 1 } } : {};
    const { description, ...rest } = fields;
    const update = { $set: { ...rest, ...(description !== undefined && { description }) }, ...unset };
    const doc = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  async findPage(
    filter: { status?: EventStatus; activeAt?: Date },
    skip: number,
    limit: number,
  ): Promise<{ items: EventRecord[]; total: number }> {
    const query: QueryFilter<EventEntity> = {};
    if (filter.status) query.status = filter.status;
    if (filter.activeAt) {
      query.startAt = { $lte: filter.activeAt };
      query.endAt = { $gte: filter.activeAt };
    }
    const [docs, total] = await Promise.all([
      this.model.find(query).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<Lean[]>().exec(),
      this.model.countDocuments(query).exec(),
    ]);
    return { items: docs.map(toRecord), total };
  }
}
