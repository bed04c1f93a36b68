import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import { type PendingAudit, pendingAuditStore, withCreationEntry } from '../audit/audit-log.service.js';
import type { WebhookEndpointChanges, WebhookEndpointRecord } from './webhook-endpoint.js';
import { type StoredWebhookEndpoint, toWebhookEndpoint } from './webhook-endpoint.mapper.js';
import { WebhookEndpointEntity, WebhookEndpointRemovalEntity } from './webhook-endpoint.schema.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { readListPage } from '../common/list-read.js';

@Injectable()
export class WebhookEndpointRepository {
  constructor(
    @InjectModel(WebhookEndpointEntity.name) private readonly model: Model<WebhookEndpointEntity>,
    @InjectModel(WebhookEndpointRemovalEntity.name) private readonly removals: Model<WebhookEndpointRemovalEntity>,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {
    this.pendingAudits = pendingAuditStore(model);
    this.removalAudits = pendingAuditStore(removals);
  }

  private readonly pendingAudits: ReturnType<typeof pendingAuditStore>;
  /** The deletions' entries, riding on their removals (WebhookEndpointRemovalEntity). */
  private readonly removalAudits: ReturnType<typeof pendingAuditStore>;

  /**
   * `entryFor`: the creation's audit entry, given the new endpoint's id, inserted with it (PendingAudit), so that an
   * endpoint never stands without its WEBHOOK_ENDPOINT_CREATED entry.
   */
  async insert(
    endpoint: Omit<WebhookEndpointRecord, 'id'>,
    entryFor?: (id: string) => PendingAudit,
  ): Promise<WebhookEndpointRecord> {
    const created = await this.model.create({ ...withCreationEntry(entryFor), ...endpoint });
    return toWebhookEndpoint(created.toObject() as StoredWebhookEndpoint);
  }

  async findById(id: string): Promise<WebhookEndpointRecord | undefined> {
    const doc = await this.model.findById(id).lean<StoredWebhookEndpoint>().exec();
    return doc ? toWebhookEndpoint(doc) : undefined;
  }

  /** How many endpoints exist. */
  async count(): Promise<number> {
    return this.model.countDocuments().exec();
  }

  async findEnabled(): Promise<WebhookEndpointRecord[]> {
    const docs = await this.model.find({ enabled: true }).lean<StoredWebhookEndpoint[]>().exec();
    return docs.map(toWebhookEndpoint);
  }

  async findPage(skip: number, limit: number): Promise<{ items: WebhookEndpointRecord[]; total: number }> {
    const { docs, total } = await readListPage(
      this.model.find().sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<StoredWebhookEndpoint[]>(),
      this.model.countDocuments(),
      this.config.lists.readMaxMs,
    );
    return { items: docs.map(toWebhookEndpoint), total };
  }

  /** A plain update by _id: its callers hold the endpoint's EditLock (WebhookEndpointsService). */
  /** `pendingAudit`: the change's audit entry, riding on the change's own write (PendingAudit). */
  async update(
    id: string,
    changes: WebhookEndpointChanges,
    pendingAudit?: PendingAudit,
  ): Promise<WebhookEndpointRecord | undefined> {
    const { disabledReason, ...set } = changes;
    const update = {
      $set: {
        ...set,
        ...(disabledReason != null && { disabledReason }),
        ...(pendingAudit && { pendingAudit }),
        updatedAt: new Date(),
      },
      // disablings stay: the payout back-fill of an earlier enabling ends at its first one (PayoutBackfill.pass).
      ...(disabledReason === null && { $unset: { disabledReason: 1 } }),
    };
    const doc = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<StoredWebhookEndpoint>().exec();
    return doc ? toWebhookEndpoint(doc) : undefined;
  }

  /** Takes a recorded entry off the endpoint (PendingAudit); under its edit lock. */
  clearPendingAudit(id: string, key: string): Promise<void> {
    return this.pendingAudits.clear(id, key);
  }

  /** Ids of endpoints that carry an entry not recorded yet (PendingAuditSweep), at most `limit`. */
  findIdsWithPendingAudit(limit: number): Promise<string[]> {
    return this.pendingAudits.idsCarrying(limit);
  }

  /**
   * Deletes the endpoint, its removal recorded first with the deletion's audit entry (`pendingAudit`: a delete
   * that fails after it leaves a removal of an endpoint still there, which only matters once it is gone, and whose
   * entry is void: see settleRemovalAudit). Under the endpoint's edit lock, its callers having found it there: an
   * earlier removal of the id did not delete it, so this one's time and entry replace its (the relay drops, rather
   * than fails, the deliveries made from the removal's time on: those made while the endpoint stood are failed).
   */
  async delete(id: string, pendingAudit: PendingAudit, at = new Date()): Promise<WebhookEndpointRecord | undefined> {
    if (Types.ObjectId.isValid(id)) {
      const [stored] = await insertEach(() => this.removals.collection.insertOne({ _id: id, at, pendingAudit } as never), 1);
      if (!stored) await this.removals.updateOne({ _id: id }, { $set: { at, pendingAudit } }).exec();
    }
    const doc = await this.model.findByIdAndDelete(id).lean<StoredWebhookEndpoint>().exec();
    return doc ? toWebhookEndpoint(doc) : undefined;
  }

  /** The deletion's audit entry still on the endpoint's removal (not recorded yet), if there is one. */
  async findRemovalAudit(id: string): Promise<PendingAudit | undefined> {
    if (!Types.ObjectId.isValid(id)) return undefined;
    const doc = await this.removals.findById(id, { pendingAudit: 1 }).lean<{ pendingAudit?: PendingAudit }>().exec();
    return doc?.pendingAudit ?? undefined;
  }

  /** Takes a deletion's entry off its removal (recorded, or void); under the endpoint's edit lock. */
  clearRemovalAudit(id: string, key: string): Promise<void> {
    return this.removalAudits.clear(id, key);
  }

  /** Ids of removed endpoints whose deletion's entry is not recorded yet (PendingAuditSweep), at most `limit`. */
  findRemovalIdsWithPendingAudit(limit: number): Promise<string[]> {
    return this.removalAudits.idsCarrying(limit);
  }

  /** When the endpoint was deleted, if it was (a read by _id; the relay's, for a delivery whose endpoint is gone). */
  async removedAt(id: string): Promise<Date | undefined> {
    const doc = await this.removals.findById(id).lean<{ at: Date }>().exec();
    return doc?.at;
  }
}
