import { Inject, Injectable } from '@nestjs/common';
import type { DomainError } from '@reward/server-kit/errors';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { EventCatalog } from '../events/event-catalog.js';
import type { EventRecord } from '../events/event.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { requestHash } from '../idempotency/idempotency.rules.js';
import { payoutRecorded } from '../payout/payout.rules.js';
import { ProgressService } from '../progress/progress.service.js';
import type { RewardRecord } from '../rewards/reward.js';
import { StockService } from '../stock/stock.service.js';
import { AdmissionGate, ShedError } from './claim-admission.js';
import { ClaimDecisionsService } from './claim-decisions.service.js';
import { ClaimFaults } from './claim-faults.js';
import { claimError } from './claim.errors.js';
import { type ClaimOutcome, type ClaimRecord, type NewClaim, SYSTEM_ACTOR, newClaimId, outcomeOf } from './claim.js';
import { ClaimRepository } from './claim.repository.js';
import { type ClaimReason, ownSlotKey, slotKeyOf, transitionFor } from './claim.state-machine.js';

function busy(shed: ShedError): DomainError {
  return claimError('CLAIMS_BUSY', 'Too many claims are being processed; nothing was recorded, retry later', {
    retryAfterSeconds: shed.retryAfterSeconds,
  });
}

function isClaimable(event: EventRecord, now: Date): boolean {
  return event.status === 'ACTIVE' && event.startAt.getTime() <= now.getTime() && now.getTime() <= event.endAt.getTime();
}

/**
 * POST /events/{id}/claims. Every request leaves a claim. Exactly-once holds in the database: the claim's
 * unique slot key admits one blocking claim per (event, user). Without limited rewards the claim is born
 * decided (one insert). With them, the claim is inserted PROCESSING (holding the slot), unit documents
 * admit at most `stock` grants, and a decision record admits one way out of PROCESSING; a crash anywhere
 * leaves a PROCESSING claim that the reconciler finishes or undoes.
 */
@Injectable()
export class ClaimsService {
  constructor(
    private readonly catalog: EventCatalog,
    private readonly progress: ProgressService,
    private readonly claims: ClaimRepository,
    private readonly decisions: ClaimDecisionsService,
    private readonly stock: StockService,
    private readonly idempotency: IdempotencyService,
    private readonly faults: ClaimFaults,
    @Inject(EVENT_CONFIG) config: EventConfig,
  ) {
    this.admission = new AdmissionGate(config.claims);
  }

  private readonly admission: AdmissionGate;
  readonly load = (): { inFlight: number; queued: number } => this.admission.load;

  /**
   * The recorded claim and, when the request was refused, why (an Idempotency-Key replays the first
   * outcome). Throws CLAIMS_BUSY (nothing recorded) when the request is shed. `waitedMs`: how long the
   * request waited before it reached the claim path (it counts against the queue's limit).
   */
  async claim(eventId: string, userId: string, idempotencyKey?: string, waitedMs = 0): Promise<ClaimOutcome> {
    try {
      return await this.admission.run(() => this.admitted(eventId, userId, idempotencyKey), waitedMs);
    } catch (error) {
      if (!(error instanceof ShedError)) throw error;
      throw busy(error);
    }
  }

  /**
   * CLAIMS_BUSY for a claim request that has only just arrived, when the gate would shed it now; undefined
   * when it may go on (see AdmissionGate.shedOnArrival).
   */
  shedOnArrival(): DomainError | undefined {
    const shed = this.admission.shedOnArrival();
    return shed && busy(shed);
  }

  private admitted(eventId: string, userId: string, idempotencyKey?: string): Promise<ClaimOutcome> {
    return this.idempotency.execute(
      { userId, key: idempotencyKey, requestHash: requestHash(`POST /events/${eventId}/claims`, {}) },
      async () => outcomeOf(await this.run(eventId, userId, idempotencyKey)),
      // An interrupted request is retried by its client, not replayed: the reconciler forgets its key.
      { final: (outcome) => outcome.refusal !== 'CLAIM_INTERRUPTED' },
    );
  }

  private async run(eventId: string, userId: string, idempotencyKey?: string): Promise<ClaimRecord> {
    const { event, rewards, limited } = await this.catalog.require(eventId);
    const base = {
      eventId,
      userId,
      rewards: rewards.map((reward) => ({
        rewardId: reward.id,
        type: reward.type,
        name: reward.name,
        quantity: reward.quantity,
      })),
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      createdAt: new Date(),
    };
    if (!isClaimable(event, base.createdAt)) return this.recordRefusal(base, 'EVENT_NOT_ACTIVE');
    const slotKey = slotKeyOf(eventId, userId);
    // An early answer from this process's memory (the unit inserts decide), before the player's activities
    // are read: once the stock is gone, most of a launch crowd is told so, and eligible or not, there is
    // nothing left to grant them. A player who already holds a claim is told so, not that the stock is
    // gone: one read of their slot.
    if (limited.some((reward) => this.stock.believedSoldOut(reward.id))) {
      return this.recordRefusal(base, (await this.claims.findBySlot(slotKey)) ? 'ALREADY_CLAIMED' : 'OUT_OF_STOCK');
    }
    const progress = await this.progress.evaluate(event, userId);
    if (!progress.eligible) return this.recordRefusal(base, 'CONDITION_NOT_MET');

    const outcome = event.approval === 'AUTO' ? 'GRANTED' : 'PENDING';
    if (limited.length === 0) return this.recordBornDecided(base, slotKey, outcome);

    // The unique slot key admits one blocking claim per (event, user): a second tap is refused here.
    const claim: ClaimRecord = { id: newClaimId(), ...base, status: 'PROCESSING', slotKey };
    if (!(await this.claims.tryInsert(claim))) return this.recordRefusal(base, 'ALREADY_CLAIMED');
    await this.faults.at('intent-inserted');

    const took = await this.takeStock(claim.id, limited);
    if (took < limited.length) {
      // The rejection gives back whatever this claim took (all or none).
      return this.decisions.decideOwn(claim, transitionFor('FAIL', 'PROCESSING')!, {
        reason: 'OUT_OF_STOCK',
        decidedBy: SYSTEM_ACTOR,
        tookUnits: took > 0,
      });
    }
    const transition = transitionFor(outcome === 'GRANTED' ? 'GRANT' : 'HOLD_FOR_REVIEW', 'PROCESSING')!;
    const decided = await this.decisions.decideOwn(claim, transition, { decidedBy: SYSTEM_ACTOR, tookUnits: took > 0 });
    await this.faults.at('claim-finished');
    return decided;
  }

  /** One unit of each limited reward, in the order given; how many it took before the first that was out. */
  private async takeStock(claimId: string, limited: readonly RewardRecord[]): Promise<number> {
    let took = 0;
    for (const reward of limited) {
      if (!(await this.stock.takeUnit(reward.id, reward.stock!, claimId))) return took;
      took++;
      await this.faults.at('unit-taken');
    }
    return took;
  }

  /**
   * Nothing can fail after the claim is recorded when it takes no limited stock, so it is born decided:
   * one insert, which the unique slot key decides (a second tap is refused here), carrying its payout
   * outbox. No PROCESSING state, no decision record, no projection: a crash before the insert leaves
   * nothing, after it the claim is final. Later moves (approval, rejection, revoke) are decisions as usual.
   */
  private async recordBornDecided(
    base: Omit<NewClaim, 'id' | 'status' | 'slotKey'>,
    slotKey: string,
    status: 'GRANTED' | 'PENDING',
  ): Promise<ClaimRecord> {
    const payoutEndpointIds = this.decisions.subscribersOf(status);
    const claim: ClaimRecord = {
      ...base,
      id: newClaimId(),
      status,
      slotKey,
      decidedAt: base.createdAt,
      decidedBy: SYSTEM_ACTOR,
      ...(payoutEndpointIds.length > 0 && { payout: payoutRecorded() }),
    };
    if (!(await this.claims.tryInsert({ ...claim, payoutEndpointIds }))) return this.recordRefusal(base, 'ALREADY_CLAIMED');
    await this.faults.at('claim-finished');
    return claim;
  }

  /** A system rejection is born final and never holds the slot (its slot key is its own id). */
  private async recordRefusal(base: Omit<NewClaim, 'id' | 'status' | 'slotKey'>, reason: ClaimReason): Promise<ClaimRecord> {
    const id = newClaimId();
    const claim: NewClaim = {
      ...base,
      id,
      status: 'REJECTED',
      reason,
      slotKey: ownSlotKey(id),
      decidedAt: base.createdAt,
      decidedBy: SYSTEM_ACTOR,
    };
    await this.claims.tryInsert(claim);
    return claim;
  }
}
