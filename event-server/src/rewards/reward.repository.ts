import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { RewardRecord } from './reward.js';
import { type StoredReward, toReward } from './reward.mapper.js';
import { RewardEntity } from './reward.schema.js';

@Injectable()
export class RewardRepository {
  constructor(@InjectModel(RewardEntity.name) private readonly model: Model<RewardEntity>) {}

  /**
   * Inserts the reward. The first limited reward of an event gets its units recorded on the claims: the
   * unique `claimUnitsOf` index decides which one when two are created at once; the other is inserted
   * without it (its units are `reward_units` documents).
   */
  async create(fields: Omit<RewardRecord, 'id' | 'createdAt' | 'unitsOnClaims'>): Promise<RewardRecord> {
    if (fields.stock !== undefined) {
      try {
        const created = await this.model.create({ ...fields, claimUnitsOf: fields.eventId });
        return toReward(created.toObject() as StoredReward);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    const created = await this.model.create(fields);
    return toReward(created.toObject() as StoredReward);
  }

  async findByEvent(eventId: string): Promise<RewardRecord[]> {
    const docs = await this.model.find({ eventId }).sort({ createdAt: 1, _id: 1 }).lean<StoredReward[]>().exec();
    return docs.map(toReward);
  }
}
