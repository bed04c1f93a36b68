import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { ClaimDecisionEntity } from './claim-decision.schema.js';
import type { ClaimReason, ClaimStatus } from './claim.state-machine.js';

export interface ClaimDecisionRecord {
  id: string;
  claimId: string;
  fromStatus: ClaimStatus;
  toStatus: ClaimStatus;
  reason?: ClaimReason;
  note?: string;
  decidedBy: string;
  at: Date;
  appliedAt?: Date;
  payoutPending?: boolean;
  payoutEndpointIds?: string[];
}

type LeanDecision = ClaimDecisionEntity & { _id: Types.ObjectId };

function toDecision(doc: LeanDecision): ClaimDecisionRecord {
  return {
    id: doc._id.toString(),
    claimId: doc.claimId,
    fromStatus: doc.fromStatus,
    toStatus: doc.toStatus,
    ...(doc.reason != null && { reason: doc.reason }),
    ...(doc.note != null && { note: doc.note }),
    decidedBy: doc.decidedBy,
    at: doc.at,
    ...(doc.appliedAt != null && { appliedAt: doc.appliedAt }),
    ...(doc.payoutPending === true && { payoutPending: true, payoutEndpointIds: [...(doc.payoutEndpointIds ?? [])] }),
  };
}

@Injectable()
export class ClaimDecisionRepository {
  constructor(@InjectModel(ClaimDecisionEntity.name) private readonly model: Model<ClaimDecisionEntity>) {}

  /** The decision, or undefined when another decision out of the same status already won. */
  async tryInsert(decision: Omit<ClaimDecisionRecord, 'id'>): Promise<ClaimDecisionRecord | undefined> {
    // The driver's own insert (no Mongoose document): this runs on every claim's path.
    const doc: LeanDecision = {
      _id: new Types.ObjectId(),
      claimId: decision.claimId,
      fromStatus: decision.fromStatus,
      toStatus: decision.toStatus,
      ...(decision.reason !== undefined && { reason: decision.reason }),
      ...(decision.note !== undefined && { note: decision.note }),
      decidedBy: decision.decidedBy,
      at: decision.at,
      ...(decision.appliedAt !== undefined && { appliedAt: decision.appliedAt }),
      ...(decision.payoutPending === true && {
        payoutPending: true,
        payoutEndpointIds: [...(decision.payoutEndpointIds ?? [])],
      }),
    };
    try {
      await this.model.collection.insertOne(doc);
      return toDecision(doc);
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  async find(claimId: string, fromStatus: ClaimStatus): Promise<ClaimDecisionRecord | undefined> {
    const doc = await this.model.findOne({ claimId, fromStatus }).lean<LeanDecision>().exec();
    return doc ? toDecision(doc) : undefined;
  }

  async findManyFrom(claimIds: readonly string[], fromStatus: ClaimStatus): Promise<ClaimDecisionRecord[]> {
    if (claimIds.length === 0) return [];
    const docs = await this.model
      .find({ claimId: { $in: claimIds }, fromStatus })
      .lean<LeanDecision[]>()
      .exec();
    return docs.map(toDecision);
  }

  async markApplied(id: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { appliedAt: new Date() } }).exec();
  }

  async findUnappliedBefore(cutoff: Date, limit: number): Promise<ClaimDecisionRecord[]> {
    const docs = await this.model
      .find({ appliedAt: { $exists: false }, at: { $lt: cutoff } })
      .sort({ at: 1 })
      .limit(limit)
      .lean<LeanDecision[]>()
      .exec();
    return docs.map(toDecision);
  }
}
