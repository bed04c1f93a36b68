import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { RewardEntity, type RewardType } from './reward.schema.js';

export interface RewardRecord {
  id: string;
  eventId: string;
  type: RewardType;
  name: string;
  quantity: number;
  stock?: number;
  itemCode?: string;
  couponCode?: string;
  createdAt: Date;
}

type Lean = RewardEntity & { _id: { toString(): string } };

function toRecord(doc: Lean): RewardRecord {
  return {
    id: doc._id.toString(),
    eventId: doc.eventId,
    type: doc.type,
    name: doc.name,
    quantity: doc.quantity,
    ...(doc.stock !== undefined && doc.stock !== null && { stock: doc.stock }),
    ...(doc.itemCode !== undefined && { itemCode: doc.itemCode }),
    ...(doc.couponCode !== undefined && { couponCode: doc.couponCode }),
    createdAt: doc.createdAt,
  };
}

@Injectable()
export class RewardRepository {
  constructor(@InjectModel(RewardEntity.name) private readonly model: Model<RewardEntity>) {}

  async create(fields: Omit<RewardRecord, 'id' | 'createdAt'>): Promise<RewardRecord> {
    const created = await this.model.create(fields);
    return toRecord(created.toObject() as Lean);
  }

  async findByEvent(eventId: string): Promise<RewardRecord[]> {
    const docs = await this.model.find({ eventId }).sort({ createdAt: 1, _id: 1 }).lean<Lean[]>().exec();
    return docs.map(toRecord);
  }
}
