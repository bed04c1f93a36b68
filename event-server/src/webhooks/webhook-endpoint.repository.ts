import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { WebhookEndpointEntity } from './webhook-endpoint.schema.js';

export interface WebhookSecret {
  value: string;
  createdAt: Date;
  expiresAt?: Date;
}

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  events: string[];
  description?: string;
  enabled: boolean;
  disabledReason?: string;
  secrets: WebhookSecret[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEndpointChanges = Partial<
  Pick<WebhookEndpointRecord, 'url' | 'events' | 'description' | 'enabled' | 'secrets'>
> & { disabledReason?: string | null };

type Lean = WebhookEndpointEntity & { _id: Types.ObjectId };

function toRecord(doc: Lean): WebhookEndpointRecord {
  return {
    id: doc._id.toString(),
    url: doc.url,
    events: [...doc.events],
    ...(doc.description != null && { description: doc.description }),
    enabled: doc.enabled,
    ...(doc.disabledReason != null && { disabledReason: doc.disabledReason }),
    secrets: doc.secrets.map((secret) => ({
      value: secret.value,
      createdAt: secret.createdAt,
      ...(secret.expiresAt != null && { expiresAt: secret.expiresAt }),
    })),
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

@Injectable()
export class WebhookEndpointRepository {
  constructor(@InjectModel(WebhookEndpointEntity.name) private readonly model: Model<WebhookEndpointEntity>) {}

  async insert(endpoint: Omit<WebhookEndpointRecord, 'id'>): Promise<WebhookEndpointRecord> {
    const created = await this.model.create(endpoint);
    return toRecord(created.toObject() as Lean);
  }

  async findById(id: string): Promise<WebhookEndpointRecord | undefined> {
    const doc = await this.model.findById(id).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  async findEnabled(): Promise<WebhookEndpointRecord[]> {
    const docs = await this.model.find({ enabled: true }).lean<Lean[]>().exec();
    return docs.map(toRecord);
  }

  async findPage(skip: number, limit: number): Promise<{ items: WebhookEndpointRecord[]; total: number }> {
    const [docs, total] = await Promise.all([
      this.model.find().sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<Lean[]>().exec(),
      this.model.countDocuments().exec(),
    ]);
    return { items: docs.map(toRecord), total };
  }

  /** A plain update by _id: endpoint settings are changed by one admin at a time, nobody races on them. */
  async update(id: string, changes: WebhookEndpointChanges): Promise<WebhookEndpointRecord | undefined> {
    const { disabledReason, ...set } = changes;
    const update = {
      $set: { ...set, ...(disabledReason != null && { disabledReason }), updatedAt: new Date() },
      ...(disabledReason === null && { $unset: { disabledReason: 1 } }),
    };
    const doc = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }

  async delete(id: string): Promise<WebhookEndpointRecord | undefined> {
    const doc = await this.model.findByIdAndDelete(id).lean<Lean>().exec();
    return doc ? toRecord(doc) : undefined;
  }
}
