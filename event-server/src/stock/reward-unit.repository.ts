import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { RewardUnitEntity } from './reward-unit.schema.js';
import type { UnitStore } from './unit-allocator.js';

@Injectable()
export class RewardUnitRepository implements UnitStore {
  constructor(@InjectModel(RewardUnitEntity.name) private readonly model: Model<RewardUnitEntity>) {}

  /** True when this claim now holds the unit; false when the unique index refused it (someone holds it). */
  async tryInsert(rewardId: string, unit: number, claimId: string): Promise<boolean> {
    try {
      // The driver's own insert (no Mongoose document): this runs on every claim's path.
      await this.model.collection.insertOne({ rewardId, unit, claimId, createdAt: new Date() });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /** Whether the unit is held: a point read on the unique (rewardId, unit) index. */
  async exists(rewardId: string, unit: number): Promise<boolean> {
    return (await this.model.exists({ rewardId, unit }).exec()) !== null;
  }

  /** The units held for a reward; the store stops the count past `maxTimeMs` when given (MaxTimeMSExpired). */
  countTaken(rewardId: string, maxTimeMs?: number): Promise<number> {
    const count = this.model.countDocuments({ rewardId });
    return (maxTimeMs === undefined ? count : count.maxTimeMS(maxTimeMs)).exec();
  }

  /** The unit numbers held for a reward, ascending (projection only). */
  async takenUnits(rewardId: string): Promise<number[]> {
    const docs = await this.model.find({ rewardId }, { unit: 1, _id: 0 }).sort({ unit: 1 }).lean<{ unit: number }[]>().exec();
    return docs.map((doc) => doc.unit);
  }

  /** Deletes every unit a claim holds; deleting nothing is fine (release is idempotent). */
  async deleteByClaim(claimId: string): Promise<number> {
    const result = await this.model.deleteMany({ claimId }).exec();
    return result.deletedCount;
  }
}
