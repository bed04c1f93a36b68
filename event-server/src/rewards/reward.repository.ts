import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { RewardRecord } from './reward.js';
import { type StoredReward, toReward } from './reward.mapper.js';
import { RewardEntity } from './reward.schema.js';

@Injectable()
export class RewardRepository {
  constructor(@InjectModel(RewardEntity.name) private readonly model: Model<RewardEntity>) {}

  async create(fields: Omit<RewardRecord, 'id' | 'createdAt'>): Promise<RewardRecord> {
    const created = await this.model.create(fields);
    return toReward(created.toObject() as StoredReward);
  }

  async findByEvent(eventId: string): Promise<RewardRecord[]> {
    const docs = await this.model.find({ eventId }).sort({ createdAt: 1, _id: 1 }).lean<StoredReward[]>().exec();
    return docs.map(toReward);
  }
}
