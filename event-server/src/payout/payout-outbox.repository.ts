import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { ClaimDecisionEntity } from '../claims/claim-decision.schema.js';
import { ClaimEntity } from '../claims/claim.schema.js';
import type { ClaimPayout } from './payout.rules.js';

export interface OutboxEntry {
  decisionId: string;
  claimId: string;
  toStatus: string;
  reason?: string;
  note?: string;
  decidedBy: string;
  at: Date;
  applied: boolean;
  endpointIds: string[];
}

type LeanDecision = ClaimDecisionEntity & { _id: { toString(): string } };

/** The outbox is the claim decisions still marked payoutPending; the claim's payout field is kept here. */
@Injectable()
export class PayoutOutboxRepository {
  constructor(
    @InjectModel(ClaimDecisionEntity.name) private readonly decisions: Model<ClaimDecisionEntity>,
    @InjectModel(ClaimEntity.name) private readonly claims: Model<ClaimEntity>,
  ) {}

  /** Decisions whose deliveries are not recorded yet: an equality filter, so FerretDB pushes it down too. */
  async findPending(limit: number): Promise<OutboxEntry[]> {
    const docs = await this.decisions.find({ payoutPending: true }).limit(limit).lean<LeanDecision[]>().exec();
    return docs.map((doc) => ({
      decisionId: doc._id.toString(),
      claimId: doc.claimId,
      toStatus: doc.toStatus,
      ...(doc.reason != null && { reason: doc.reason }),
      ...(doc.note != null && { note: doc.note }),
      decidedBy: doc.decidedBy,
      at: doc.at,
      applied: doc.appliedAt != null,
      endpointIds: [...(doc.payoutEndpointIds ?? [])],
    }));
  }

  async markExpanded(decisionId: string): Promise<void> {
    await this.decisions.updateOne({ _id: decisionId }, { $unset: { payoutPending: 1 } }).exec();
  }

  /** A cached summary of the claim's deliveries, recomputed after every change (absent = NOT_REQUIRED). */
  async setClaimPayout(claimId: string, payout: ClaimPayout): Promise<void> {
    const update = payout.status === 'NOT_REQUIRED' ? { $unset: { payout: 1 } } : { $set: { payout } };
    await this.claims.updateOne({ _id: claimId }, update).exec();
  }
}
