import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, QueryFilter } from 'mongoose';
import { type PendingAudit, pendingAuditStore, withCreationEntry } from '../audit/audit-log.service.js';
import type { EventFields, EventRecord } from './event.js';
import { type StoredEvent, toEvent } from './event.mapper.js';
import { EventEntity, type EventStatus } from './event.schema.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { listTooSlowMessage, readListPage } from '../common/list-read.js';
import { withinStoreTime } from '@reward/server-kit/list-read';

/**
 * The order of a page of events, newest first: findMeeting reads in it too, since a player's page is cut from its
 * read in memory and must be the page findPage would read.
 */
const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

/** The filters a list of events takes, for the message of one the store stopped (listTooSlowMessage). */
const EVENT_LIST_FILTERS = 'status, activeAt';

@Injectable()
export class EventRepository {
  constructor(
    @InjectModel(EventEntity.name) private readonly model: Model<EventEntity>,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {
    this.pendingAudits = pendingAuditStore(model);
  }

  private readonly pendingAudits: ReturnType<typeof pendingAuditStore>;

  /**
   * Inserts the event with its creation's audit entry on it (`entryFor`, given the new event's id: PendingAudit), in
   * the one insert, so that an event never stands without its EVENT_CREATED entry (a test's seed may go without).
   */
  async create(fields: EventFields & { createdBy: string }, entryFor?: (id: string) => PendingAudit): Promise<EventRecord> {
    const created = await this.model.create({ ...withCreationEntry(entryFor), ...fields, editorIds: [fields.createdBy] });
    return toEvent(created.toObject() as StoredEvent);
  }

  async findById(id: string): Promise<EventRecord | undefined> {
    const doc = await this.model.findById(id).lean<StoredEvent>().exec();
    return doc ? toEvent(doc) : undefined;
  }

  /**
   * Replaces the editable fields (the service has validated the merged event as a whole), and names `editorId`
   * among its editors in the same write. Called under the event's edit lock, as addEditor is.
   */
  async replaceFields(
    id: string,
    fields: EventFields,
    editorId: string,
    pendingAudit: PendingAudit,
  ): Promise<EventRecord | undefined> {
    const unset = fields.description === undefined ? { $unset: { description: 1 } } : {};
    const { description, ...rest } = fields;
    const update = {
      // The change's audit entry rides on the change's own write (PendingAudit).
      $set: { ...rest, ...(description !== undefined && { description }), pendingAudit },
      $addToSet: { editorIds: editorId },
      ...unset,
    };
    const doc = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<StoredEvent>().exec();
    return doc ? toEvent(doc) : undefined;
  }

  /** Takes a recorded entry off the event (PendingAudit); under its edit lock. */
  clearPendingAudit(id: string, key: string): Promise<void> {
    return this.pendingAudits.clear(id, key);
  }

  /** Ids of events that carry an entry not recorded yet (PendingAuditSweep), at most `limit`. */
  findIdsWithPendingAudit(limit: number): Promise<string[]> {
    return this.pendingAudits.idsCarrying(limit);
  }

  /**
   * Names `editorId` among the event's editors (a change to one of its rewards). Under the event's edit lock: on
   * a store whose updates write the whole document back (FerretDB), two writes of one event at once could undo
   * each other's.
   */
  async addEditor(id: string, editorId: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $addToSet: { editorIds: editorId } }).exec();
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
    const { docs, total } = await readListPage(
      this.model.find(query).sort(NEWEST_FIRST).skip(skip).limit(limit).lean<StoredEvent[]>(),
      this.model.countDocuments(query),
      this.config.lists.readMaxMs,
      EVENT_LIST_FILTERS,
    );
    return { items: docs.map(toEvent), total };
  }

  /**
   * Every event (of `status`, if given) whose period meets `[from, to]`, in the order of a page (newest first), or
   * undefined when there are more than `max`: one command, no count.
   */
  async findMeeting(filter: { status?: EventStatus; from: Date; to: Date }, max: number): Promise<EventRecord[] | undefined> {
    const query: QueryFilter<EventEntity> = { startAt: { $lte: filter.to }, endAt: { $gte: filter.from } };
    if (filter.status) query.status = filter.status;
    const docs = await withinStoreTime(
      this.model
        .find(query)
        .sort(NEWEST_FIRST)
        .limit(max + 1)
        .lean<StoredEvent[]>()
        .maxTimeMS(this.config.lists.readMaxMs)
        .exec(),
      listTooSlowMessage(EVENT_LIST_FILTERS),
    );
    return docs.length > max ? undefined : docs.map(toEvent);
  }
}
