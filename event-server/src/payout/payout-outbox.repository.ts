import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import { ClaimDecisionEntity } from '../claims/claim-decision.schema.js';
import { ClaimEntity } from '../claims/claim.schema.js';
import { PayoutSummaryLeaseEntity } from './delivery.schema.js';
import { fewAtATime, groupAlike } from './few-at-a-time.js';
import type { ClaimPayout } from './payout.rules.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';
import {
  CLAIM_FIELDS,
  type StoredClaimFields,
  OUTBOX_CLAIM_FIELDS,
  type StoredOutboxClaim,
  type StoredOutboxDecision,
  claimOutboxEntry,
  toOutboxEntry,
  toPayoutClaim,
} from './payout-outbox.mapper.js';

/** Where a page of a time-ordered read ended: its last document's time and id. */
export interface PageMark {
  at: Date;
  id: unknown;
}

function afterMark(field: string, mark: PageMark): Record<string, unknown> {
  return { $or: [{ [field]: { $gt: mark.at } }, { [field]: mark.at, _id: { $gt: mark.id } }] };
}

/** The outbox is the claim decisions still marked payoutPending; the claim's payout field is kept here. */
@Injectable()
export class PayoutOutboxRepository {
  constructor(
    @InjectModel(ClaimDecisionEntity.name) private readonly decisions: Model<ClaimDecisionEntity>,
    @InjectModel(ClaimEntity.name) private readonly claims: Model<ClaimEntity>,
    @InjectModel(PayoutSummaryLeaseEntity.name) private readonly summaryLeases: Model<PayoutSummaryLeaseEntity>,
  ) {}

  /**
   * Transitions whose deliveries are not recorded yet: decisions, then claims born decided. Equality
   * filters, so FerretDB pushes them down too.
   */
  async findPending(limit: number): Promise<OutboxEntry[]> {
    const docs = await this.decisions.find({ payoutPending: true }).limit(limit).lean<StoredOutboxDecision[]>().exec();
    const entries = docs.map(toOutboxEntry);
    if (entries.length >= limit) return entries;
    const claims = await this.claims
      .find({ payoutPending: true }, OUTBOX_CLAIM_FIELDS)
      .limit(limit - entries.length)
      .lean<StoredOutboxClaim[]>()
      .exec();
    return [...entries, ...claims.map(claimOutboxEntry)];
  }

  /**
   * The claims of a batch of outbox entries. Their projection marked them payout PENDING, an equality
   * FerretDB filters in the database (few claims are), so one command reads the batch; a claim not found
   * that way (not projected yet, or its summary rewritten meanwhile) is read by its id.
   */
  async findClaims(ids: readonly string[]): Promise<Map<string, PayoutClaim>> {
    const found = new Map<string, PayoutClaim>();
    if (ids.length === 0) return found;
    const docs = await this.claims
      .find({ 'payout.status': 'PENDING', _id: { $in: ids } }, CLAIM_FIELDS)
      .lean<StoredClaimFields[]>()
      .exec();
    for (const doc of docs) found.set(doc._id.toString(), toPayoutClaim(doc));
    const missing = ids.filter((id) => !found.has(id));
    await fewAtATime(missing, async (id) => {
      const doc = await this.claims.findById(id, CLAIM_FIELDS).lean<StoredClaimFields>().exec();
      if (doc) found.set(id, toPayoutClaim(doc));
    });
    return found;
  }

  /**
   * A page of the decisions recorded at or after `since` (and before `before`, if given), oldest first, after `after`
   * (the last of the previous page). The payout back-fill's, bounded by its window: the decisions since an endpoint
   * was enabled.
   */
  async findDecisionsSince(
    since: Date,
    limit: number,
    after?: PageMark,
    before?: Date,
  ): Promise<Array<OutboxEntry & { fromStatus: string; mark: PageMark }>> {
    const docs = await this.decisions
      .find({ at: { $gte: since, ...(before && { $lt: before }) }, ...(after && afterMark('at', after)) })
      .sort({ at: 1, _id: 1 })
      .limit(limit)
      .lean<StoredOutboxDecision[]>()
      .exec();
    return docs.map((doc) => ({ ...toOutboxEntry(doc), fromStatus: doc.fromStatus, mark: { at: doc.at, id: doc._id } }));
  }

  /**
   * A page of the claims created at or after `since` (and before `before`, if given), oldest first, after `after`:
   * each as the transition it would be if born decided, with its own fields (the caller tells which were born decided).
   */
  async findClaimsSince(
    since: Date,
    limit: number,
    after?: PageMark,
    before?: Date,
  ): Promise<Array<{ entry: OutboxEntry; claim: PayoutClaim; mark: PageMark }>> {
    const docs = await this.claims
      .find(
        { createdAt: { $gte: since, ...(before && { $lt: before }) }, ...(after && afterMark('createdAt', after)) },
        { ...OUTBOX_CLAIM_FIELDS, ...CLAIM_FIELDS },
      )
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<Array<StoredOutboxClaim & StoredClaimFields>>()
      .exec();
    return docs.map((doc) => ({
      entry: claimOutboxEntry(doc),
      claim: toPayoutClaim(doc),
      mark: { at: doc.createdAt, id: doc._id },
    }));
  }

  /**
   * The claim's transitions whose deliveries are not recorded yet (their ids, a webhook's decisionId): its decisions
   * still marked payoutPending, and the claim itself while it is (born decided). Equalities on the claim's id.
   */
  async awaitingOf(claimId: string): Promise<string[]> {
    const decisions = await this.decisions
      .find({ claimId, payoutPending: true }, { _id: 1 })
      .lean<Array<{ _id: { toString(): string } }>>()
      .exec();
    const claim = await this.claims.findOne({ _id: claimId, payoutPending: true }, { _id: 1 }).lean().exec();
    return [...decisions.map((doc) => doc._id.toString()), ...(claim ? [claimId] : [])];
  }

  /** Clears the outbox mark of these entries, one command per source (pushed down on the mark, matched by id). */
  async markExpanded(entries: ReadonlyArray<Pick<OutboxEntry, 'source' | 'decisionId'>>): Promise<void> {
    const of = (source: OutboxEntry['source']) =>
      entries.filter((entry) => entry.source === source).map((entry) => entry.decisionId);
    const decisionIds = of('decision');
    const claimIds = of('claim');
    if (decisionIds.length > 0)
      await this.decisions
        .updateMany({ payoutPending: true, _id: { $in: decisionIds } }, { $unset: { payoutPending: 1 } })
        .exec();
    if (claimIds.length > 0) {
      const unmark = { $unset: { payoutPending: 1, bornStatus: 1 } };
      await this.claims.updateMany({ payoutPending: true, _id: { $in: claimIds } }, unmark).exec();
    }
  }

  /**
   * Cached summaries of the claims' deliveries (absent = NOT_REQUIRED). Claims whose summaries came out
   * alike (a round's deliveries that all succeeded at once) are written by one update: it filters on the
   * payout status PENDING, an equality FerretDB filters in the database, and matches the ids among those.
   * A group that update did not wholly match (a summary that was not PENDING) is written claim by claim.
   */
  async setClaimPayouts(payouts: ReadonlyMap<string, ClaimPayout>): Promise<void> {
    await fewAtATime(groupAlike(payouts), async ({ value: payout, keys: claimIds }) => {
      const update = payout.status === 'NOT_REQUIRED' ? { $unset: { payout: 1 } } : { $set: { payout } };
      if (claimIds.length > 1) {
        const result = await this.claims.updateMany({ 'payout.status': 'PENDING', _id: { $in: claimIds } }, update).exec();
        if (result.matchedCount === claimIds.length) return;
      }
      await fewAtATime(claimIds, (claimId) => this.claims.updateOne({ _id: claimId }, update).exec());
    });
  }

  /** One insert for the summary leases of a batch: true where this caller now recomputes that claim. */
  async trySummaryLeases(claimIds: readonly string[], at: Date): Promise<boolean[]> {
    if (claimIds.length === 0) return [];
    const docs = claimIds.map((_id) => ({ _id, at }));
    return insertEach(() => this.summaryLeases.collection.insertMany(docs as never[], { ordered: false }), docs.length);
  }

  /** When these summary leases were taken (the collection holds only summaries being recomputed). */
  async summaryLeasesTakenAt(claimIds: readonly string[]): Promise<Map<string, Date>> {
    if (claimIds.length === 0) return new Map();
    const docs = await this.summaryLeases
      .find({ _id: { $in: claimIds } })
      .lean<Array<{ _id: string; at: Date }>>()
      .exec();
    return new Map(docs.map((doc) => [doc._id, doc.at]));
  }

  /** The summary leases taken before `cutoff`, by claim (few: the collection holds only recomputations in flight). */
  async summaryLeasesTakenBefore(cutoff: Date): Promise<Map<string, Date>> {
    const docs = await this.summaryLeases
      .find({ at: { $lt: cutoff } })
      .lean<Array<{ _id: string; at: Date }>>()
      .exec();
    return new Map(docs.map((doc) => [doc._id, doc.at]));
  }

  /** Removes summary leases: this caller's own when done, or one a dead holder left (matched by when it was taken). */
  async releaseSummaryLeases(leases: ReadonlyArray<{ claimId: string; at?: Date }>): Promise<void> {
    if (leases.length === 0) return;
    const own = leases.filter((lease) => lease.at === undefined).map((lease) => lease.claimId);
    const lapsed = leases.filter((lease) => lease.at !== undefined);
    if (own.length > 0) await this.summaryLeases.deleteMany({ _id: { $in: own } }).exec();
    await fewAtATime(lapsed, (lease) => this.summaryLeases.deleteOne({ _id: lease.claimId, at: lease.at }).exec());
  }
}
