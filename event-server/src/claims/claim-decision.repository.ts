import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { ClaimDecisionEntity } from './claim-decision.schema.js';
import type { ClaimDecisionRecord } from './claim.js';
import { type StoredDecision, toDecision, toDecisionDocument } from './claim.mapper.js';
import type { ClaimStatus } from './claim.state-machine.js';

@Injectable()
export class ClaimDecisionRepository {
  constructor(@InjectModel(ClaimDecisionEntity.name) private readonly model: Model<ClaimDecisionEntity>) {}

  /** The decision, or undefined when another decision out of the same status already won. */
  async tryInsert(decision: Omit<ClaimDecisionRecord, 'id'>): Promise<ClaimDecisionRecord | undefined> {
    // The driver's own insert (no Mongoose document): this runs on every claim's path.
    const doc = toDecisionDocument(decision);
    try {
      await this.model.collection.insertOne(doc);
      return toDecision(doc);
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  async find(claimId: string, fromStatus: ClaimStatus): Promise<ClaimDecisionRecord | undefined> {
    const doc = await this.model.findOne({ claimId, fromStatus }).lean<StoredDecision>().exec();
    return doc ? toDecision(doc) : undefined;
  }

  async findManyFrom(claimIds: readonly string[], fromStatus: ClaimStatus): Promise<ClaimDecisionRecord[]> {
    if (claimIds.length === 0) return [];
    const docs = await this.model
      .find({ claimId: { $in: claimIds }, fromStatus })
      .lean<StoredDecision[]>()
      .exec();
    return docs.map(toDecision);
  }

  async markApplied(id: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { appliedAt: new Date() }, $unset: { applyPending: 1 } }).exec();
  }

  /** Reviewers' decisions made before the cutoff that are still to be projected once more. */
  async findConfirmPendingBefore(cutoff: Date, limit: number): Promise<ClaimDecisionRecord[]> {
    const docs = await this.model
      .find({ confirmPending: true, at: { $lt: cutoff } })
      .limit(limit)
      .lean<StoredDecision[]>()
      .exec();
    return docs.map(toDecision);
  }

  async clearConfirmPending(id: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $unset: { confirmPending: 1 } }).exec();
  }

  /**
   * Decisions made before the cutoff and not applied yet, oldest first: those marked `applyPending`, a search
   * every store serves; with `unmarkedToo`, every decision without `appliedAt`, which also finds any written
   * unapplied by a version before the mark (FerretDB v1 decodes every decision record for that one).
   */
  async findUnappliedBefore(cutoff: Date, limit: number, { unmarkedToo = false } = {}): Promise<ClaimDecisionRecord[]> {
    const unapplied = unmarkedToo ? { appliedAt: { $exists: false } } : { applyPending: true };
    const docs = await this.model
      .find({ ...unapplied, at: { $lt: cutoff } })
      .sort({ at: 1 })
      .limit(limit)
      .lean<StoredDecision[]>()
      .exec();
    return docs.map(toDecision);
  }
}
