import { Injectable } from '@nestjs/common';
import { payoutRecorded } from '../payout/payout.rules.js';
import { StockService } from '../stock/stock.service.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { webhookEventFor } from '../webhooks/webhook-events.js';
import { ClaimDecisionRepository } from './claim-decision.repository.js';
import { ClaimFaults } from './claim-faults.js';
import type { ClaimDecisionRecord, ClaimProjection, ClaimRecord } from './claim.js';
import { ClaimRepository } from './claim.repository.js';
import { PayoutSummaries } from './payout-summaries.js';
import {
  type ClaimReason,
  type ClaimStatus,
  type Transition,
  holdsSlot,
  ownSlotKey,
  releasesStock,
} from './claim.state-machine.js';

export interface DecisionInput {
  reason?: ClaimReason;
  note?: string;
  decidedBy: string;
  /**
   * Ask the reconciler to project the decision once more after its grace (a reviewer's decision). On a
   * store whose updates are read-then-write (FerretDB), an update of the claim that read it before this
   * projection (the payout relay's) can write the old status and unit back; the second projection puts them
   * right. Projecting is idempotent.
   */
  confirmLater?: boolean;
}

export interface DecisionOutcome {
  /** False when another decision out of the same status had already been made (and was applied instead). */
  won: boolean;
  decision: ClaimDecisionRecord;
  claim: ClaimRecord;
}

/** The fields a decision writes onto its claim. */
function projectionOf(decision: ClaimDecisionRecord, release: boolean): ClaimProjection {
  return {
    status: decision.toStatus,
    ...(decision.reason !== undefined && { reason: decision.reason }),
    ...(decision.note !== undefined && { note: decision.note }),
    decidedAt: decision.at,
    decidedBy: decision.decidedBy,
    ...(!holdsSlot(decision.toStatus, decision.reason) && { slotKey: ownSlotKey(decision.claimId) }),
    ...(release && { releasePending: true }),
    ...(releasesStock(decision.toStatus) && { freeUnit: true }),
    ...(decision.payoutPending && { payout: payoutRecorded() }),
  };
}

/** Statuses a claim can still leave: after a decision into one of them, a later decision may follow. */
const NON_FINAL: readonly ClaimStatus[] = ['PROCESSING', 'PENDING', 'GRANTED'];

/**
 * Every transition of a claim: the decision record (unique on claimId + fromStatus) decides, then the
 * claim document is projected from it. Applying is idempotent, so a live request and the reconciler may
 * both apply the same decision.
 */
@Injectable()
export class ClaimDecisionsService {
  constructor(
    private readonly claims: ClaimRepository,
    private readonly decisions: ClaimDecisionRepository,
    private readonly stock: StockService,
    private readonly faults: ClaimFaults,
    private readonly webhooks: WebhookEndpointDirectory,
    private readonly payoutSummaries: PayoutSummaries,
  ) {}

  /**
   * Decides the transition and applies it. `onDecided` runs right after the decision record is written
   * and only for the winner (used for the audit entry of a reviewer's decision). `onLost` runs, when another
   * request's decision won, for each decision not applied yet that this request is about to apply (see apply's
   * `beforeApplying`): the winner's own request may have died before its audit entry.
   */
  async decide(
    claimId: string,
    transition: Transition,
    input: DecisionInput,
    onDecided?: (decision: ClaimDecisionRecord) => Promise<void>,
    onLost?: (unapplied: ClaimDecisionRecord) => Promise<void>,
  ): Promise<DecisionOutcome> {
    const inserted = await this.decisions.tryInsert({
      claimId,
      fromStatus: transition.from,
      toStatus: transition.to,
      ...(input.reason !== undefined && { reason: input.reason }),
      ...(input.note !== undefined && { note: input.note }),
      decidedBy: input.decidedBy,
      at: new Date(),
      ...this.payoutOutbox(transition),
      ...(input.confirmLater === true && { confirmPending: true }),
    });
    if (!inserted) {
      const winner = await this.decisions.find(claimId, transition.from);
      if (!winner) throw new Error(`Decision for claim ${claimId} out of ${transition.from} refused but not found`);
      return { won: false, decision: winner, claim: await this.apply(winner, { beforeApplying: onLost }) };
    }
    await onDecided?.(inserted);
    await this.faults.at('decision-inserted');
    return { won: true, decision: inserted, claim: await this.apply(inserted, { fresh: true }) };
  }

  /**
   * The live claim path's own decision out of PROCESSING, in two writes: the decision record (unique on
   * claimId + fromStatus), then the claim projected from it while it is still PROCESSING. The decision is
   * born applied: until the projection lands, the claim's PROCESSING status is what tells the reconciler
   * to apply it. `unitDocuments`: the rewards whose unit documents the request took (none: a rejection's
   * release is skipped; the reconciler, which cannot know, always releases). A unit the claim holds on itself
   * goes with the projection either way.
   */
  async decideOwn(
    claim: ClaimRecord,
    transition: Transition,
    input: DecisionInput & { unitDocuments: readonly string[] },
  ): Promise<ClaimRecord> {
    const at = new Date();
    const inserted = await this.decisions.tryInsert({
      claimId: claim.id,
      fromStatus: transition.from,
      toStatus: transition.to,
      ...(input.reason !== undefined && { reason: input.reason }),
      decidedBy: input.decidedBy,
      at,
      appliedAt: at,
      ...this.payoutOutbox(transition),
    });
    // The reconciler decided first (this request was slower than the stale limit): its decision stands.
    if (!inserted) return (await this.decide(claim.id, transition, input)).claim;
    await this.faults.at('decision-inserted');
    const release = input.unitDocuments.length > 0 && releasesStock(inserted.toStatus);
    const projection = projectionOf(inserted, release);
    // No longer PROCESSING: the reconciler projected this decision (this request stalled past the stale limit), its
    // payout PENDING with it, and the relay may have recorded the delivery since: applied again without the payout,
    // which would write it back to PENDING for good (nothing recomputes a summary but a delivery's change).
    if (!(await this.claims.projectIfStatus(claim.id, transition.from, projection)))
      return this.apply({ ...inserted, payoutPending: false });
    await this.faults.at('claim-projected');
    const { releasePending: _pending, freeUnit, ...fields } = projection;
    const { unit: _freed, ...unitless } = claim;
    const projected: ClaimRecord = { ...(freeUnit ? unitless : claim), ...fields };
    // Only the rewards given back may have stock again (a reward found sold out stays believed so).
    if (freeUnit && claim.unit) this.stock.reopened([claim.unit.rewardId]);
    if (release) await this.releaseUnits(claim, input.unitDocuments);
    return projected;
  }

  /**
   * The claim's status as its decisions leave it: the document's, or a later one when a stale write-back (an update
   * that read the claim before a reviewer's decision was projected: DecisionInput.confirmLater) shows an earlier
   * status until the reconciler projects it again. One read per decision followed; none for a claim still
   * PROCESSING (its own request projects its outcome).
   */
  async standingStatus(claim: ClaimRecord): Promise<ClaimStatus> {
    let status = claim.status;
    if (status === 'PROCESSING') return status;
    for (let later = await this.decidedOutOf(claim.id, status); later; later = await this.decidedOutOf(claim.id, status)) {
      status = later.toStatus;
    }
    return status;
  }

  /**
   * The claim as `decidedBy`'s own decision `transition` left it, when that decision (the record the unique index
   * admitted out of `transition.from`) is theirs, went to `transition.to`, and no decision has followed it:
   * `current` when it already shows that, else projected again (a stale write-back undone, as the reconciler
   * would). Undefined otherwise: another's decision, another decision, or one since superseded.
   */
  async ownStanding(
    claimId: string,
    transition: Transition,
    decidedBy: string,
    current?: ClaimRecord,
  ): Promise<{ claim: ClaimRecord; decision: ClaimDecisionRecord } | undefined> {
    const decision = await this.decisions.find(claimId, transition.from);
    if (!decision || decision.decidedBy !== decidedBy || decision.toStatus !== transition.to) return undefined;
    if (await this.next(decision)) return undefined;
    const claim = current?.status === transition.to && current.decidedBy === decidedBy ? current : await this.apply(decision);
    return { claim, decision };
  }

  /**
   * Brings the claim document in line with the decision, or with the latest decision after it: a stale
   * re-application (the reconciler finishing an old decision) must never undo a later one, so after
   * projecting we look for a decision out of the new status and apply that one too. `beforeApplying` runs for
   * each decision not applied yet, before it takes effect or is marked applied (a reviewer's audit entry: once
   * applied, the reconciler no longer looks for the decision, nor writes its entry).
   */
  async apply(
    decision: ClaimDecisionRecord,
    options: { fresh?: boolean; beforeApplying?: (decision: ClaimDecisionRecord) => Promise<void> } = {},
  ): Promise<ClaimRecord> {
    let current = decision;
    // A decision this request has just made cannot have been followed yet: nobody has seen its status.
    let checkFirst = !options.fresh;
    for (;;) {
      if (!current.appliedAt) await options.beforeApplying?.(current);
      const superseding = checkFirst ? await this.next(current) : undefined;
      checkFirst = true;
      if (superseding) {
        if (!current.appliedAt) await this.decisions.markApplied(current.id);
        current = superseding;
        continue;
      }
      const claim = await this.project(current);
      const later = await this.next(current);
      if (later) {
        current = later;
        continue;
      }
      if (!current.appliedAt) await this.decisions.markApplied(current.id);
      return claim;
    }
  }

  /**
   * Projects a reviewer's decision once more (see DecisionInput.confirmLater), or the latest decision after
   * it, so that a later decision is never undone: one made while this projection was on its way (after the
   * look for it) is projected again after it, as `apply` does. The payout field is not projected (the relay keeps
   * it once the decision is applied) but derived again from the deliveries: the first projection, a whole-document
   * write on FerretDB, may have put back a summary the relay replaced meanwhile. Then the decision's mark is cleared.
   */
  async confirm(decision: ClaimDecisionRecord): Promise<void> {
    let current = decision;
    for (;;) {
      for (let later = await this.next(current); later; later = await this.next(current)) current = later;
      await this.project(current, { keepPayout: true });
      const later = await this.next(current);
      if (!later) break;
      current = later;
    }
    await this.payoutSummaries.resettle(decision.claimId);
    await this.decisions.clearConfirmPending(decision.id);
  }

  /**
   * The payout outbox rides on the decision's own insert: the endpoints subscribed to this transition
   * (from the in-memory directory, no store command), none when nobody is subscribed.
   */
  private payoutOutbox(transition: Transition): { payoutPending?: true; payoutEndpointIds?: string[] } {
    const payoutEndpointIds = this.subscribersOf(transition.to, transition.from);
    return payoutEndpointIds.length > 0 ? { payoutPending: true, payoutEndpointIds } : {};
  }

  /** The enabled endpoints subscribed to a move into this status, from `from` for a decision (no store command). */
  subscribersOf(status: ClaimStatus, from?: ClaimStatus): string[] {
    const event = webhookEventFor(status, from);
    return event ? this.webhooks.subscribers(event) : [];
  }

  private next(decision: ClaimDecisionRecord): Promise<ClaimDecisionRecord | undefined> {
    return this.decidedOutOf(decision.claimId, decision.toStatus);
  }

  /** The decision out of `status` (unique per claim and status), if any; none out of a final status. */
  private decidedOutOf(claimId: string, status: ClaimStatus): Promise<ClaimDecisionRecord | undefined> {
    if (!NON_FINAL.includes(status)) return Promise.resolve(undefined);
    return this.decisions.find(claimId, status);
  }

  /** Projects the decision onto its claim and gives back its stock if it releases it; `keepPayout`: leaves the payout field as it is. */
  private async project(decision: ClaimDecisionRecord, options: { keepPayout?: boolean } = {}): Promise<ClaimRecord> {
    const release = releasesStock(decision.toStatus);
    const { payout, ...fields } = projectionOf(decision, release);
    const projection = payout && !options.keepPayout ? { ...fields, payout } : fields;
    const claim = await this.claims.project(decision.claimId, projection);
    if (!claim) throw new Error(`Claim ${decision.claimId} of decision ${decision.id} does not exist`);
    // The copy's payout PENDING may land after the relay recorded and sent its webhooks (a copy read before, or a
    // request that stalled while the reconciler applied it): derived again from the deliveries once they exist.
    if ('payout' in projection) await this.payoutSummaries.resettle(decision.claimId);
    await this.faults.at('claim-projected');
    if (!release) return claim;
    await this.releaseUnits(claim);
    const { releasePending: _done, ...released } = claim;
    return released;
  }

  /** Gives back the claim's units, then clears the marker that asks the reconciler to do it. */
  private async releaseUnits(
    claim: ClaimRecord,
    rewardIds: readonly string[] = claim.rewards.map((reward) => reward.rewardId),
  ): Promise<void> {
    await this.stock.release(claim.id, rewardIds);
    await this.faults.at('units-released');
    await this.claims.clearReleasePending(claim.id);
  }
}
