import { Inject, Injectable } from '@nestjs/common';
import { AdmissionGate, answeringShed } from '@reward/server-kit/admission-gate';
import { AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { AuditLogService } from '../audit/audit-log.service.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { ClaimDecisionsService } from './claim-decisions.service.js';
import { claimError } from './claim.errors.js';
import { type ClaimDecisionRecord, type ClaimRecord, SYSTEM_ACTOR } from './claim.js';
import { ClaimRepository } from './claim.repository.js';
import { type ClaimStatus, type Transition, transitionFor, transitionOf } from './claim.state-machine.js';

export type ReviewAction = 'APPROVE' | 'REJECT' | 'REVOKE';

const AUDIT_ACTION: Record<ReviewAction, AuditAction> = {
  APPROVE: AuditAction.CLAIM_APPROVED,
  REJECT: AuditAction.CLAIM_REJECTED,
  REVOKE: AuditAction.CLAIM_REVOKED,
};

const REVIEW_ACTIONS = Object.keys(AUDIT_ACTION) as ReviewAction[];

/** The review a decision record is (its move matches the action's), or undefined for the system's own moves. */
function reviewActionOf(decision: Pick<ClaimDecisionRecord, 'fromStatus' | 'toStatus' | 'decidedBy'>): ReviewAction | undefined {
  if (decision.decidedBy === SYSTEM_ACTOR) return undefined;
  return REVIEW_ACTIONS.find((action) => {
    const transition = transitionOf(action);
    return transition.from === decision.fromStatus && transition.to === decision.toStatus;
  });
}

function invalidTransition(action: ReviewAction, status: ClaimStatus): Error {
  const shown = status === 'PROCESSING' ? 'still being processed' : status;
  return claimError('INVALID_TRANSITION', `Cannot ${action.toLowerCase()} a claim that is ${shown}`);
}

const reviewsBusy = (retryAfterSeconds: number, resentAfterDrop: boolean): DomainError =>
  claimError(
    'REVIEWS_BUSY',
    resentAfterDrop
      ? 'Too many review decisions are being made on this server; it did nothing, but the server that dropped this ' +
          'request may have decided it: send it again after Retry-After to learn its outcome'
      : 'Too many review decisions are being made on this server; nothing was decided, retry after Retry-After',
    { retryAfterSeconds },
  );

/** How a review request reached this process (see ClaimReviewService.review). */
export interface ReviewArrival {
  /** What is left of its time to be started (START_BY_HEADER), when it came through the gateway. */
  startWithinMs?: number;
  /** The gateway sent it on after another replica dropped it unanswered: that replica may have decided it. */
  resentAfterDrop?: boolean;
}

/** Approve, reject and revoke: each a decision record that only one reviewer (or the reconciler) can win. */
@Injectable()
export class ClaimReviewService {
  /**
   * The review decisions this process works on at once (REVIEW_MAX_IN_FLIGHT, a bounded queue behind them). Each
   * is several store commands (the claim, the decision, the stock, the audit entry); a script approving a launch's
   * 2,000 MANUAL claims at once held the store from every player's claim, and its requests were answered 504 after
   * the gateway's timeout while their decisions went on being made. The rest are answered 503 REVIEWS_BUSY with
   * Retry-After at once, nothing decided; a request waits in the queue no longer than it has to be started.
   */
  private readonly gate: AdmissionGate;

  constructor(
    private readonly claims: ClaimRepository,
    private readonly decisions: ClaimDecisionsService,
    private readonly auditLog: AuditLogService,
    @Inject(EVENT_CONFIG) config: EventConfig,
  ) {
    this.gate = new AdmissionGate({ ...config.reviews, maxRetryAfterSeconds: 10 });
  }

  /** The decisions being made and waiting in this process now (the gate's counts). */
  get load(): { inFlight: number; queued: number } {
    return this.gate.load;
  }

  /**
   * Decides a claim through the gate. A request the gateway sent on after another replica dropped it goes through
   * the gate too (a replica dying with its queue full would otherwise send all of it here at once, past the
   * bound); shed, it is told that the server that dropped it may have decided it (so not "nothing was decided"),
   * and sending it again answers as that decision left the claim.
   */
  async review(
    claimId: string,
    action: ReviewAction,
    actor: AuthenticatedUser,
    note?: string,
    { startWithinMs, resentAfterDrop = false }: ReviewArrival = {},
  ): Promise<ClaimRecord> {
    return answeringShed(
      this.gate.run(() => this.decide(claimId, action, actor, note), { startWithinMs }),
      (seconds) => reviewsBusy(seconds, resentAfterDrop),
    );
  }

  private async decide(claimId: string, action: ReviewAction, actor: AuthenticatedUser, note?: string): Promise<ClaimRecord> {
    const claim = await this.claims.findById(claimId);
    if (!claim) throw claimError('CLAIM_NOT_FOUND', `Claim ${claimId} does not exist`);
    // Separation of duties: staff who also play do not decide their own claims.
    if (claim.userId === actor.id) {
      throw new DomainError(403, CommonErrorCode.FORBIDDEN, 'A claim is not reviewed by the player who made it');
    }
    let status = claim.status;
    let transition = transitionFor(action, status);
    if (!transition) {
      // The document may show a status a reviewer's decision has left (a stale write-back, until the reconciler
      // projects it again): a revoke right after an approval is decided from the decisions, not refused.
      status = await this.decisions.standingStatus(claim);
      transition = transitionFor(action, status);
    }
    if (!transition) {
      // The same reviewer's decision again (a retry whose answer was lost, a double click): answered with the claim
      // as that decision left it, nothing recorded again, as long as it stands (read from the decision records, not
      // from the claim document, which a stale write-back may show otherwise). Anything else is refused.
      const standing = await this.ownStanding(action, transitionOf(action), actor, claim, claim);
      if (standing) return standing;
      throw invalidTransition(action, status);
    }
    const outcome = await this.decisions.decide(
      claimId,
      transition,
      {
        ...(action === 'REJECT' && { reason: 'REVIEW_REJECTED' as const }),
        ...(note !== undefined && { note }),
        decidedBy: actor.id,
        confirmLater: true,
      },
      // Recorded as soon as the decision exists: the decision is the fact, applying it is bookkeeping.
      (decision) => this.audit(action, decision, claim),
      // Another reviewer's decision won, and this request applies it (and any later one not applied yet): each one's
      // entry first (its request may have died before writing it, and the reconciler, which writes such entries,
      // looks only for decisions not applied).
      (unapplied) => this.auditReview(unapplied, claim),
    );
    if (!outcome.won) {
      // Two of this reviewer's requests for the same decision at once: the one that lost answers as the winner did,
      // and writes the decision's entry should the winner have died before it did (the same request sent on).
      const standing = await this.ownStanding(action, transition, actor, claim, outcome.claim);
      if (standing) return standing;
      throw claimError(
        'INVALID_TRANSITION',
        `The claim was already decided (${outcome.decision.fromStatus} -> ${outcome.decision.toStatus}) by another request`,
      );
    }
    return outcome.claim;
  }

  /**
   * The claim as this reviewer's own standing decision left it (ClaimDecisionsService.ownStanding), with that
   * decision's audit entry written should the request that decided have died before writing it; undefined when
   * the decision is not theirs or no longer stands. `claim`: as the review read it; `current`: as it is now.
   */
  private async ownStanding(
    action: ReviewAction,
    transition: Transition,
    actor: AuthenticatedUser,
    claim: ClaimRecord,
    current: ClaimRecord,
  ): Promise<ClaimRecord | undefined> {
    const standing = await this.decisions.ownStanding(claim.id, transition, actor.id, current);
    if (!standing) return undefined;
    await this.audit(action, standing.decision, claim);
    return standing.claim;
  }

  /**
   * A reviewer's decision that the reconciler is about to apply (its request died or was cut off after recording it)
   * gets its audit entry now, if it has none: the request writes it right after the decision, but a replica killed
   * between the two left a decision that took effect with no entry, unless the same review was sent again. Nothing
   * for the system's own decisions (a claim's own outcome, INTERRUPTED), which are no staff change.
   */
  async auditUnapplied(decision: ClaimDecisionRecord): Promise<void> {
    if (reviewActionOf(decision) === undefined) return;
    const claim = await this.claims.findById(decision.claimId);
    if (claim) await this.auditReview(decision, claim);
  }

  /** The audit entry of a reviewer's decision (none for the system's own), as `audit` writes it. */
  private async auditReview(decision: ClaimDecisionRecord, claim: ClaimRecord): Promise<void> {
    const action = reviewActionOf(decision);
    if (action !== undefined) await this.audit(action, decision, claim);
  }

  /**
   * The decision's one audit entry, by its reviewer: written by the request that made the decision, and again by
   * the same reviewer's request for it sent later (a double click, or the gateway sending it on after the
   * replica that decided died before writing the entry); the decision's id makes it one entry. `claim`: as the
   * review read it (its note before the decision, when the claim did not show the decision yet).
   */
  private async audit(action: ReviewAction, decision: ClaimDecisionRecord, claim: ClaimRecord): Promise<void> {
    const noteBefore = claim.status === decision.fromStatus ? (claim.note ?? null) : null;
    await this.auditLog.recordOnce(
      {
        actorId: decision.decidedBy,
        action: AUDIT_ACTION[action],
        targetType: AuditTargetType.CLAIM,
        targetId: decision.claimId,
        changes: {
          status: { before: decision.fromStatus, after: decision.toStatus },
          ...(decision.note !== undefined && { note: { before: noteBefore, after: decision.note } }),
        },
      },
      `decision:${decision.id}`,
      decision.at,
    );
  }
}
