import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { isStoreUnavailable } from '@reward/server-kit/store-unavailable';
import { AtMostEvery } from '@reward/server-kit/at-most-every';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import type { IdempotencyRecord } from '../idempotency/idempotency-key.js';
import { IDEMPOTENCY_STALE_MS } from '../idempotency/idempotency.rules.js';
import { IdempotencyService, type StaleKeyResolution } from '../idempotency/idempotency.service.js';
import { StockService } from '../stock/stock.service.js';
import { ClaimDecisionRepository } from './claim-decision.repository.js';
import { ClaimDecisionsService } from './claim-decisions.service.js';
import { ClaimReviewService } from './claim-review.service.js';
import { type ClaimOutcome, SYSTEM_ACTOR, recordedOutcomeOf } from './claim.js';
import { ClaimRepository } from './claim.repository.js';
import { transitionFor } from './claim.state-machine.js';

/** How long a decision may stay unapplied before the reconciler applies it (its request is likely dead). */
const DECISION_GRACE_MS = 5_000;
const BATCH = 500;
/**
 * How often (at most) a pass also looks for unapplied decisions without the `applyPending` mark (written by
 * a version before it, on a rolling deploy or before a restart): the search by the absence of `appliedAt`
 * decodes every decision record on FerretDB v1, so not every pass.
 */
export const UNMARKED_DECISIONS_EVERY_MS = 10 * 60 * 1000;

export interface ReconcileOptions {
  /** A PROCESSING claim older than this belongs to a request that died. */
  staleAfterMs: number;
  /** An IN_PROGRESS Idempotency-Key older than this belongs to a request that died (default 60 s). */
  keyStaleAfterMs?: number;
}

/**
 * Finishes or undoes what crashed requests left behind, on start and periodically. Safe next to live
 * requests and other replicas: every step is a unique insert or an idempotent re-application.
 */
@Injectable()
export class ClaimReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ClaimReconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** The search for unmarked unapplied decisions too: the first pass makes it. */
  private readonly unmarkedSearch = new AtMostEvery(UNMARKED_DECISIONS_EVERY_MS);

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly claims: ClaimRepository,
    private readonly decisionRecords: ClaimDecisionRepository,
    private readonly decisions: ClaimDecisionsService,
    private readonly stock: StockService,
    private readonly idempotency: IdempotencyService,
    private readonly review: ClaimReviewService,
  ) {}

  onApplicationBootstrap(): void {
    this.tick();
    const interval = this.config.claims.reconcileIntervalMs;
    if (interval > 0) {
      this.timer = setInterval(() => this.tick(), interval);
      this.timer.unref();
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async reconcile(options: ReconcileOptions): Promise<void> {
    const now = Date.now();
    // (a) Claims stuck in PROCESSING: apply their decision, or reject them as INTERRUPTED (frees the slot, gives stock back).
    for (const claim of await this.claims.findProcessingBefore(new Date(now - options.staleAfterMs), BATCH)) {
      const decided = await this.decisionRecords.find(claim.id, 'PROCESSING');
      if (decided) await this.decisions.apply(decided);
      else
        await this.decisions.decide(claim.id, transitionFor('FAIL', 'PROCESSING')!, {
          reason: 'INTERRUPTED',
          decidedBy: SYSTEM_ACTOR,
        });
    }
    // (b) Decisions made but not (fully) applied.
    const grace = Math.min(options.staleAfterMs, DECISION_GRACE_MS);
    const unmarkedToo = this.unmarkedSearch.due(now);
    for (const decision of await this.decisionRecords.findUnappliedBefore(new Date(now - grace), BATCH, { unmarkedToo })) {
      // A reviewer's decision is a staff change: its audit entry first (written once, by the decision's id). One
      // that cannot be written now leaves its decision for the next pass, and the rest of this pass goes on.
      try {
        await this.review.auditUnapplied(decision);
      } catch (error) {
        this.logger.warn(
          { err: error, decisionId: decision.id, claimId: decision.claimId },
          "a reviewer's decision waits for its audit entry",
        );
        continue;
      }
      // A later reviewer's decision that this one's application carries along may be too young for this pass's
      // search, and once applied it is never searched for again: its entry too, before it takes effect.
      await this.decisions.apply(decision, {
        beforeApplying: (later) => (later.id === decision.id ? Promise.resolve() : this.review.auditUnapplied(later)),
      });
    }
    // (b2) Reviewers' decisions projected once more: a concurrent update may have written the claim back.
    for (const decision of await this.decisionRecords.findConfirmPendingBefore(new Date(now - grace), BATCH)) {
      // One not applied yet is (b)'s, after its audit entry: projected here, it took effect without one.
      if (decision.appliedAt === undefined) continue;
      await this.decisions.confirm(decision);
    }
    // (c) Claims whose stock was to be given back when their request stopped.
    for (const claim of await this.claims.findReleasePending(BATCH)) {
      await this.stock.release(
        claim.id,
        claim.rewards.map((reward) => reward.rewardId),
      );
      await this.claims.clearReleasePending(claim.id);
    }
    // (d) Idempotency keys of dead requests, and keys past retention.
    await this.idempotency.reconcile((record) => this.resolveKey(record), options.keyStaleAfterMs ?? IDEMPOTENCY_STALE_MS);
  }

  /** A dead request's key: answer with the claim it recorded, or forget the key when it recorded nothing lasting. */
  private async resolveKey(record: IdempotencyRecord): Promise<StaleKeyResolution<ClaimOutcome>> {
    return recordedOutcomeOf(await this.claims.findRecordedUnder(record));
  }

  private tick(): void {
    if (this.running) return;
    const staleAfterMs = this.config.claims.staleAfterMs;
    // A key's request is as dead as its claim would be: after a crash, players retrying with their key get
    // the recorded answer once the claim is settled, not IDEMPOTENCY_IN_PROGRESS for a whole minute.
    this.running = this.reconcile({ staleAfterMs, keyStaleAfterMs: Math.min(staleAfterMs, IDEMPOTENCY_STALE_MS) })
      .catch((error: unknown) => {
        // The database away is said in a line (the next pass tries again); anything else with its stack.
        if (isStoreUnavailable(error)) this.logger.warn(`Claim reconciliation failed: ${String(error)}`);
        else this.logger.error({ err: error }, 'Claim reconciliation failed');
      })
      .finally(() => {
        this.running = undefined;
      });
  }
}
