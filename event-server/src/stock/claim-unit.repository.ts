import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';
import { unitKeyOf, unitNumberOf } from '../claims/claim.js';
import type { UnitStore } from './unit-allocator.js';

/**
 * The units of claim-held rewards, as the claims record them (`unitKey` = `rewardId:unit`, unique, and
 * `unitRewardId`): read by the driver on the claims collection. Taking and giving back are the claim's own
 * insert and the decision's projection (see ClaimsService and ClaimDecisionsService).
 */
@Injectable()
export class ClaimUnitRepository implements UnitStore {
  private readonly claims: Collection;

  constructor(@InjectConnection() connection: Connection) {
    this.claims = connection.collection('claims');
  }

  async exists(rewardId: string, unit: number): Promise<boolean> {
    return (await this.claims.findOne({ unitKey: unitKeyOf(rewardId, unit) }, { projection: { _id: 1 } })) !== null;
  }

  async takenUnits(rewardId: string): Promise<number[]> {
    const docs = await this.claims.find({ unitRewardId: rewardId }, { projection: { unitKey: 1, _id: 0 } }).toArray();
    return docs.map((doc) => unitNumberOf(String(doc.unitKey), rewardId)).sort((a, b) => a - b);
  }

  /** The units held for a reward; the store stops the count past `maxTimeMs` when given (MaxTimeMSExpired). */
  countTaken(rewardId: string, maxTimeMs?: number): Promise<number> {
    return this.claims.countDocuments({ unitRewardId: rewardId }, maxTimeMs === undefined ? {} : { maxTimeMS: maxTimeMs });
  }
}
