import { Injectable } from '@nestjs/common';
import { StockService } from '../stock/stock.service.js';
import { type ClaimDecisionRecord, ClaimDecisionRepository } from './claim-decision.repository.js';
import { ClaimFaults } from './claim-faults.js';
import { type ClaimRecord, ClaimRepository } from './claim.repository.js';
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
}

export interface DecisionOutcome {
  /** False when another decision out of the same status had already been made (and was applied instead). */
  won: boolean;
  decision: ClaimDecisionRecord;
  claim: ClaimRecord;
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
  ) {}

  /**
   * Decides the transition and applies it. `onDecided` runs right after the decision record is written
   * and only for the winner (used for the audit entry of a reviewer's decision).
   */
  async decide(
    claimId: string,
    transition: Transition,
    input: DecisionInput,
    onDecided?: (decision: ClaimDecisionRecord) => Promise<void>,
  ): Promise<DecisionOutcome> {
    const inserted = await this.decisions.tryInsert({
      claimId,
      fromStatus: transition.from,
      toStatus: transition.to,
      ...(input.reason !== undefined && { reason: input.reason }),
      ...(input.note !== undefined && { note: input.note }),
      decidedBy: input.decidedBy,
      at: new Date(),
    });
    if (!inserted) {
      const winner = await this.decisions.find(claimId, transition.from);
      if (!winner) throw new Error(`Decision for claim ${claimId} out of ${transition.from} refused but not found`);
      return { won: false, decision: winner, claim: await this.apply(winner) };
    }
    await onDecided?.(inserted);
    await this.faults.at('decision-inserted');
    return { won: true, decision: inserted, claim: await this.apply(inserted, { fresh: true }) };
  }

  /**
   * Brings the claim document in line with the decision, or with the latest decision after it: a stale
   * re-application (the reconciler finishing an old decision) must never undo a later one, so after
   * projecting we look for a decision out of the new status and apply that one too.
   */
  async apply(decision: ClaimDecisionRecord, options: { fresh?: boolean } = {}): Promise<ClaimRecord> {
    let current = decision;
    // A decision this request has just made cannot have been followed yet: nobody has seen its status.
    let checkFirst = !options.fresh;
    for (;;) {
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

  private next(decision: ClaimDecisionRecord): Promise<ClaimDecisionRecord | undefined> {
    if (!NON_FINAL.includes(decision.toStatus)) return Promise.resolve(undefined);
    return this.decisions.find(decision.claimId, decision.toStatus);
  }

  private async project(decision: ClaimDecisionRecord): Promise<ClaimRecord> {
    const release = releasesStock(decision.toStatus);
    const claim = await this.claims.project(decision.claimId, {
      status: decision.toStatus,
      ...(decision.reason !== undefined && { reason: decision.reason }),
      ...(decision.note !== undefined && { note: decision.note }),
      decidedAt: decision.at,
      decidedBy: decision.decidedBy,
      ...(!holdsSlot(decision.toStatus, decision.reason) && { slotKey: ownSlotKey(decision.claimId) }),
      ...(release && { releasePending: true }),
    });
    if (!claim) throw new Error(`Claim ${decision.claimId} of decision ${decision.id} does not exist`);
    await this.faults.at('claim-projected');
    if (!release) return claim;
    await this.stock.release(decision.claimId);
    await this.faults.at('units-released');
    await this.claims.clearReleasePending(decision.claimId);
    const { releasePending: _done, ...released } = claim;
    return released;
  }
}
