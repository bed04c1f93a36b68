import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { type PendingAudit, pendingAuditStore, withCreationEntry } from '../audit/audit-log.service.js';
import type { RewardRecord } from './reward.js';
import { type StoredReward, toReward } from './reward.mapper.js';
import { RewardEntity } from './reward.schema.js';

@Injectable()
export class RewardRepository {
  constructor(@InjectModel(RewardEntity.name) private readonly model: Model<RewardEntity>) {
    this.pendingAudits = pendingAuditStore(model);
  }

  private readonly pendingAudits: ReturnType<typeof pendingAuditStore>;

  /**
   * Inserts the reward at the next place among its event's rewards, or answers undefined when the event
   * already has `max`: the unique `position` decides between rewards added at once (the loser counts again).
   * The first limited reward of an event gets its units recorded on the claims: the unique `claimUnitsOf`
   * index decides which one when two are created at once; the other is inserted without it (its units are
   * `reward_units` documents). A store that does not name the index a duplicate broke (FerretDB) is asked
   * which: whether the place was taken.
   */
  /**
   * `counted`: the event's rewards as the caller just counted them (countInEvent), the first place to try.
   * `entryFor`: the creation's audit entry, given the new reward's id, inserted with it (PendingAudit), so that a
   * reward never stands without its REWARD_CREATED entry (a test's seed may go without).
   */
  async create(
    fields: Omit<RewardRecord, 'id' | 'createdAt' | 'unitsOnClaims'>,
    max: number,
    counted?: number,
    entryFor?: (id: string) => PendingAudit,
  ): Promise<RewardRecord | undefined> {
    const creation = withCreationEntry(entryFor);
    let unitsOnClaims = fields.stock !== undefined;
    let known = counted;
    // Ends: each lost place means one more reward counted (until `max`), and the claim-held units are lost once.
    for (;;) {
      const taken = known ?? (await this.countInEvent(fields.eventId));
      known = undefined;
      if (taken >= max) return undefined;
      const position = `${fields.eventId}:${taken}`;
      try {
        const created = await this.model.create({
          ...creation,
          ...fields,
          position,
          ...(unitsOnClaims && { claimUnitsOf: fields.eventId }),
        });
        return toReward(created.toObject() as StoredReward);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // The place was taken: count again. Otherwise only the claim-held units were (another limited reward has them).
        if (unitsOnClaims && !(await this.model.exists({ position }).exec())) unitsOnClaims = false;
      }
    }
  }

  /** How many rewards the event has (a count for the limit's check before a create, not a listing). */
  countInEvent(eventId: string): Promise<number> {
    return this.model.countDocuments({ eventId }).exec();
  }

  async findInEvent(eventId: string, id: string): Promise<RewardRecord | undefined> {
    if (!Types.ObjectId.isValid(id)) return undefined;
    const doc = await this.model
      .findOne({ _id: new Types.ObjectId(id), eventId })
      .lean<StoredReward>()
      .exec();
    return doc ? toReward(doc) : undefined;
  }

  /** Writes the changed fields of a reward (its caller holds the reward's edit lock: one change at a time). */
  async update(
    id: string,
    fields: Partial<Pick<RewardRecord, 'name' | 'quantity' | 'stock' | 'itemCode' | 'couponCode'>>,
    pendingAudit: PendingAudit,
  ): Promise<RewardRecord | undefined> {
    // The change's audit entry rides on the change's own write (PendingAudit).
    const update = { $set: { ...fields, pendingAudit } };
    const doc = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'after' }).lean<StoredReward>().exec();
    return doc ? toReward(doc) : undefined;
  }

  async findById(id: string): Promise<RewardRecord | undefined> {
    const doc = await this.model.findById(id).lean<StoredReward>().exec();
    return doc ? toReward(doc) : undefined;
  }

  /** Takes a recorded entry off the reward (PendingAudit); under its edit lock. */
  clearPendingAudit(id: string, key: string): Promise<void> {
    return this.pendingAudits.clear(id, key);
  }

  /** Ids of rewards that carry an entry not recorded yet (PendingAuditSweep), at most `limit`. */
  findIdsWithPendingAudit(limit: number): Promise<string[]> {
    return this.pendingAudits.idsCarrying(limit);
  }

  async findByEvent(eventId: string): Promise<RewardRecord[]> {
    const docs = await this.model.find({ eventId }).sort({ createdAt: 1, _id: 1 }).lean<StoredReward[]>().exec();
    return docs.map(toReward);
  }
}
