import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommonErrorCode, DomainError, tooManyRequests } from '@reward/server-kit/errors';
import { AtMostEvery } from '@reward/server-kit/at-most-every';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { EventCatalog } from '../events/event-catalog.js';
import type { EventRecord } from '../events/event.js';
import { type ExecuteOptions, type IdempotentRequest, IdempotencyService } from '../idempotency/idempotency.service.js';
import {
  IDEMPOTENCY_RETENTION_MS,
  idempotencyInProgress,
  isIdempotencyInProgress,
  requestHash,
} from '../idempotency/idempotency.rules.js';
import { payoutRecorded } from '../payout/payout.rules.js';
import { ProgressService } from '../progress/progress.service.js';
import type { RewardRecord } from '../rewards/reward.js';
import { StockService } from '../stock/stock.service.js';
import { AdmissionGate, ShedError } from '@reward/server-kit/admission-gate';
import { LateStarts } from '@reward/server-kit/start-by';
import { ClaimDecisionsService } from './claim-decisions.service.js';
import { ClaimFaults } from './claim-faults.js';
import { PlayerClaimRate } from './player-claim-rate.js';
import { claimError } from './claim.errors.js';
import {
  type ClaimOutcome,
  type ClaimRecord,
  type NewClaim,
  SYSTEM_ACTOR,
  claimRewardOf,
  keyedClaimId,
  newClaimId,
  outcomeOf,
  recordedOutcomeOf,
} from './claim.js';
import { ClaimRepository } from './claim.repository.js';
import { OwedAnswers } from './owed-answers.js';
import { type ClaimReason, ownSlotKey, slotKeyOf, transitionFor } from './claim.state-machine.js';

/** How often, at most, claims that arrived past their start-by time are reported in the log (ms). */
const LATE_WARNING_EVERY_MS = 10_000;

/**
 * How long before the gateway stops waiting a claim that has not finished is answered anyway (ms): the
 * answer's way back, and a little of the hosts' clock skew (see answeredInTime).
 */
const ANSWER_MARGIN_MS = 500;

/**
 * How far a claim request got: admitted past the gate, deciding (rather than replaying a key's answer), and
 * reading an owed key's outcome outside the gate (see OwedAnswers).
 */
interface ClaimRun {
  decided: boolean;
  admitted: boolean;
  readOwed: boolean;
  /**
   * When the read of the player's slot started that found no claim holding it, this request having then
   * recorded its refusal (see refuseUnlessHeld): the tap of the same player that waited for it may use that read.
   */
  slotFreeReadAt?: number;
  /** The player's earlier tap, which this request waited for, read the slot free after this one arrived. */
  slotSeenFree?: boolean;
}

/** Slot keys remembered as held for good (about 100 bytes each). */
const HELD_SLOTS_KEPT = 100_000;

/** Resolves when `done` settles or after `ms`, whichever comes first. */
async function settledWithin(done: Promise<void>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

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
 * unique slot key admits one blocking claim per (event, user). With at most one limited reward the claim is
 * born decided (one insert; that reward's unit rides on the claim, under its own unique key). With more, the
 * claim is inserted PROCESSING (holding the slot and the first reward's unit), unit documents admit at most
 * `stock` grants of the others, and a decision record admits one way out of PROCESSING; a crash anywhere
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
    this.queueTimeoutMs = config.claims.queueTimeoutMs;
    this.playerRate = new PlayerClaimRate(config.claims.playerBurst, config.claims.playerPerMinute);
  }

  private readonly playerRate: PlayerClaimRate;

  private readonly admission: AdmissionGate;
  private readonly logger = new Logger(ClaimsService.name);
  /** Claims that arrived past their start-by time, for a warning at most every LATE_WARNING_EVERY_MS. */
  private readonly late = new LateStarts(LATE_WARNING_EVERY_MS);
  /** Claims answered before they finished since the last warning (see answeredInTime). */
  private unfinished = 0;
  private readonly unfinishedWarning = new AtMostEvery(LATE_WARNING_EVERY_MS);
  /**
   * Per slot key, the claim request of this process in flight for it (`done` settles, never rejects) and
   * whether another tap already waits for it (one may; any more go their own way).
   */
  private readonly inFlight = new Map<string, { done: Promise<void>; waited: boolean; run: ClaimRun }>();
  /** Taps waiting for their player's claim in flight (counted as queued). */
  private waiting = 0;
  private readonly queueTimeoutMs: number;
  /**
   * Slot keys this process has seen held by a decided claim (GRANTED or PENDING). Such a claim keeps its
   * slot for good (a review rejection and a revoke keep it too), so a later tap is refused without asking
   * the store; the refusal is still recorded. Each is kept with the Idempotency-Key of the claim holding it
   * (see recordRefusal). Bounded: the oldest are forgotten first.
   */
  private readonly heldSlots = new Map<string, string | undefined>();
  /** Keyed claims answered IDEMPOTENCY_IN_PROGRESS here, whose retries are answered rather than shed (see OwedAnswers). */
  private readonly owedAnswers = new OwedAnswers();
  readonly load = (): { inFlight: number; queued: number } => {
    const { inFlight, queued } = this.admission.load;
    return { inFlight, queued: queued + this.waiting };
  };

  /**
   * The recorded claim and, when the request was refused, why (an Idempotency-Key replays the first
   * outcome). Throws CLAIMS_BUSY (nothing recorded) when the request is shed. `waitedMs`: how long the
   * request waited before it reached the claim path (it counts against the queue's limit).
   * `resentAfterDrop`: the gateway sent this keyed claim here after another replica dropped it unanswered
   * (see attempt). `startWithinMs`: how long the claim may still be started, by the gateway's clock
   * (START_BY_HEADER); none for a request that did not come through the gateway. `answerOwed`: the gateway says a
   * replica (this one or another) answered this key IDEMPOTENCY_IN_PROGRESS (ANSWER_OWED_HEADER): as OwedAnswers.
   */
  async claim(
    eventId: string,
    userId: string,
    {
      idempotencyKey,
      waitedMs = 0,
      resentAfterDrop = false,
      startWithinMs,
      answerOwed = false,
    }: {
      idempotencyKey?: string;
      waitedMs?: number;
      resentAfterDrop?: boolean;
      startWithinMs?: number;
      answerOwed?: boolean;
    } = {},
  ): Promise<ClaimOutcome> {
    // A player over their rate is told when to come back, before anything is read or recorded. A claim the
    // gateway resent after another replica dropped it is that replica's request, answered for its key.
    const arrivedAt = performance.now();
    const charged = !resentAfterDrop;
    const wait = charged ? this.playerRate.take(userId) : undefined;
    if (wait !== undefined) throw tooManyRequests('claim requests', wait);
    // Only a request that decides (and so records) a claim uses up the player's rate: a replay of a key's
    // answer, a poll of a key in progress and a shed request give theirs back.
    const run: ClaimRun = { decided: false, admitted: false, readOwed: false };
    // A second tap of a player while their first is in flight in this process waits for it (outside the
    // gate, at most the queue's time limit, which the wait counts against), then is usually told at once
    // that the slot is held: one refusal insert instead of a read, a refused insert and a read of the slot.
    const slotKey = slotKeyOf(eventId, userId);
    const earlier = this.inFlight.get(slotKey);
    // The moment after which the claim may not be started (see START_BY_HEADER), on this process's clock.
    const startBy = startWithinMs === undefined ? undefined : performance.now() + startWithinMs;
    // And the moment to answer a claim that has not finished (see answeredInTime): before the gateway stops
    // waiting, and after the start-by time, when a claim still queued has been shed.
    const answerBy = startBy === undefined ? undefined : startBy + Math.max(startWithinMs! - ANSWER_MARGIN_MS, ANSWER_MARGIN_MS);
    if (startWithinMs !== undefined && startWithinMs <= 0) this.noteLate(startWithinMs);
    let waited = this.waitedFor(waitedMs, startBy);
    if (earlier && !earlier.waited) {
      earlier.waited = true;
      this.waiting++;
      const since = performance.now();
      try {
        await settledWithin(earlier.done, this.queueTimeoutMs - waited);
      } finally {
        this.waiting--;
      }
      waited += performance.now() - since;
      // Only a read made while this request was under way answers for it (see refuseUnlessHeld).
      const freeReadAt = earlier.run.slotFreeReadAt;
      if (freeReadAt !== undefined && freeReadAt > arrivedAt) run.slotSeenFree = true;
    }
    const sent = { resentAfterDrop, answerOwed };
    const attempt = this.attempt(eventId, userId, idempotencyKey, waited, sent, startBy, run)
      .then((outcome) => (run.decided ? outcome : this.asItStandsNow(outcome)))
      .finally(() => {
        // An owed key's read outside the gate counts too: a client retrying it at once, not after Retry-After,
        // while its key has no outcome would otherwise make reads without bound, none of them shed.
        if (charged && !run.decided && !run.readOwed) this.playerRate.refund(userId);
      });
    const entry = {
      done: attempt.then(
        () => undefined,
        () => undefined,
      ),
      waited: false,
      run,
    };
    if (!this.inFlight.has(slotKey)) this.inFlight.set(slotKey, entry);
    // Forgotten when the attempt ends, which may be after this request was answered (see answeredInTime).
    void entry.done.then(() => {
      if (this.inFlight.get(slotKey) === entry) this.inFlight.delete(slotKey);
    });
    const answer = this.answeredInTime(attempt, entry.done, answerBy, idempotencyKey !== undefined, run);
    return idempotencyKey === undefined ? answer : this.noteOwed(answer, userId, idempotencyKey);
  }

  /**
   * A replayed answer (a key's stored outcome) with its claim as it stands now (docs/api-rules.md, Idempotency):
   * a claim still open when the key stored its answer (PENDING, or GRANTED, which a revoke ends) may have been
   * decided since, so it is read again by id; the answer keeps its status (201) and claim id, only the body is
   * current. A refusal never changes: no read. Should the read fail (a store outage), the stored answer stands.
   */
  private async asItStandsNow(outcome: ClaimOutcome): Promise<ClaimOutcome> {
    const { claim, refusal } = outcome;
    if (refusal !== undefined || (claim.status !== 'PENDING' && claim.status !== 'GRANTED')) return outcome;
    const current = await this.claims.findById(claim.id).catch(() => undefined);
    return current && current.status !== 'PROCESSING' ? { ...outcome, claim: current } : outcome;
  }

  /**
   * Whether a claim request that has only just arrived carries an Idempotency-Key some player is owed an
   * answer for here (see OwedAnswers): such a request is not shed on arrival.
   */
  owesAnswerFor(idempotencyKeyHeader: string | string[] | undefined): boolean {
    return this.owedAnswers.mayBeOwed(idempotencyKeyHeader);
  }

  /**
   * Keeps OwedAnswers: a key answered IDEMPOTENCY_IN_PROGRESS is owed its outcome; one answered with an
   * outcome, or refused for good (its key reused for something else), is not. A shed, a 429 or a store
   * failure leaves it as it was.
   */
  private async noteOwed(answer: Promise<ClaimOutcome>, userId: string, key: string): Promise<ClaimOutcome> {
    try {
      const outcome = await answer;
      this.owedAnswers.settle(userId, key);
      return outcome;
    } catch (error) {
      if (isIdempotencyInProgress(error)) {
        this.owedAnswers.owe(userId, key);
      } else if (error instanceof DomainError && error.status < 500 && error.status !== 429) {
        this.owedAnswers.settle(userId, key);
      }
      throw error;
    }
  }

  /**
   * The attempt's outcome, or, when the store has not let it finish by the time the gateway stops waiting for
   * the answer (`answerBy`), an answer that says what is known: the claim may still be recorded. The gateway
   * waits for twice the time it gave the claim to start (START_BY_HEADER: half its timeout to start, half to
   * finish), so `answerBy` is ANSWER_MARGIN_MS before that (and never less than that margin after the start-by
   * time, when a claim still queued has been shed), and this answer comes instead of the gateway's 504 after
   * which a claim would appear. Only an admitted claim is answered so. Like the start-by time it reads the
   * gateway's clock: a host whose clock is ahead answers an unfinished claim so much earlier, one whose clock
   * is behind leaves it to the 504.
   * A store that has stopped answering (hung, partitioned away, failing over) is what gets here: the attempt
   * goes on holding its place in the gate and completes its key when the store answers. With a key, 409
   * IDEMPOTENCY_IN_PROGRESS, which is exactly so (a retry with the key gets the outcome once it is recorded);
   * without one, 503 SERVICE_UNAVAILABLE saying that the claim may be recorded (a retry is refused
   * ALREADY_CLAIMED once it is, or decides). `done` settles with the attempt and never rejects.
   */
  private async answeredInTime(
    attempt: Promise<ClaimOutcome>,
    done: Promise<void>,
    answerBy: number | undefined,
    keyed: boolean,
    run: ClaimRun,
  ): Promise<ClaimOutcome> {
    // None, or already past (a claim that arrived too late to start is shed, or answered for its key, at once).
    if (answerBy === undefined || answerBy <= performance.now()) return attempt;
    let finished = false;
    await settledWithin(
      done.then(() => {
        finished = true;
      }),
      answerBy - performance.now(),
    );
    // Finished, or never admitted (it is being shed, or answered for a resent key): that answer comes at once. A
    // retry owed its key's outcome reads the store outside the gate: a store that does not answer holds it as
    // long as an admitted claim, so it is answered in time as one (it records nothing itself).
    if (finished || (!run.admitted && !run.readOwed)) return attempt;
    this.noteUnfinished();
    if (keyed) throw idempotencyInProgress();
    throw new DomainError(
      503,
      CommonErrorCode.SERVICE_UNAVAILABLE,
      'The database did not answer in time; this claim may still be recorded: claim again shortly to learn its outcome',
      { retryAfterSeconds: 1 },
    );
  }

  /** Counts a claim answered before it finished (see answeredInTime), and says so at most every LATE_WARNING_EVERY_MS. */
  private noteUnfinished(): void {
    this.unfinished++;
    if (!this.unfinishedWarning.due(Date.now())) return;
    this.logger.warn(
      `${this.unfinished} claim(s) were answered before they finished, the database not answering in time ` +
        '(IDEMPOTENCY_IN_PROGRESS or SERVICE_UNAVAILABLE: each finishes when it answers)',
    );
    this.unfinished = 0;
  }

  private async attempt(
    eventId: string,
    userId: string,
    idempotencyKey: string | undefined,
    waitedMs: number,
    { resentAfterDrop, answerOwed }: { resentAfterDrop: boolean; answerOwed: boolean },
    startBy: number | undefined,
    run: ClaimRun,
  ): Promise<ClaimOutcome> {
    // A claim another replica dropped unanswered, whose key that replica took, may have been recorded there:
    // it runs at once, beyond the gate, and is answered for its key (the recorded outcome, IDEMPOTENCY_IN_PROGRESS
    // or, the owner being dead, a decision), since 503 CLAIMS_BUSY would say that nothing was recorded. A key
    // never stored means nothing was recorded under it (a key is taken before its claim): then the gate decides as
    // for any claim. Keys are taken inside the gate, so there are at most as many as the dead replica had in flight.
    // A retry of a key this process answered IDEMPOTENCY_IN_PROGRESS (see OwedAnswers), or that the gateway says a
    // replica answered so (`answerOwed`: one killed since, say; see ANSWER_OWED_HEADER), gets its outcome once
    // there is one, even while the gate sheds: outside the gate, one read of the key (one more for a refusal kept
    // as its claim, see recordedForGood; two more while it is still in progress: what its request recorded, and
    // whether its owner lives), counted against the player's claim
    // rate. While there is none (its request is still running, or its dead owner recorded nothing), the gate
    // decides as for any claim.
    if (!resentAfterDrop && idempotencyKey !== undefined && (answerOwed || this.owedAnswers.has(userId, idempotencyKey))) {
      run.readOwed = true;
      const owed = await this.idempotency.find(userId, idempotencyKey);
      if (owed) {
        try {
          return await this.idempotency.answerStored(this.keyed(eventId, userId, owed.key), owed, this.keyOptions);
        } catch (error) {
          if (!isIdempotencyInProgress(error)) throw error;
        }
      }
    }
    const stored =
      resentAfterDrop && idempotencyKey !== undefined ? await this.idempotency.find(userId, idempotencyKey) : undefined;
    // Too late to start (the gateway may have answered 504 by the time a decision is made), judged after the
    // waits and the read above: a resent claim is answered for its key without deciding anything (a retry with
    // the key gets the claim once it is settled); any other is shed, having recorded nothing.
    if (startBy !== undefined && performance.now() >= startBy) {
      if (stored) return this.idempotency.answerStored(this.keyed(eventId, userId, stored.key), stored, this.keyOptions);
      throw busy(this.admission.shedLate());
    }
    try {
      return await this.admission.run(() => this.admitted(eventId, userId, idempotencyKey, run), {
        waitedMs: this.waitedFor(waitedMs, startBy),
        atOnce: stored !== undefined,
      });
    } catch (error) {
      if (!(error instanceof ShedError)) throw error;
      throw busy(error);
    }
  }

  /**
   * How long a claim counts as having waited, for the queue's limit: at least `waitedMs`, and so much that what
   * is left of the limit ends at its start-by time (a claim that reached this process late, sent long ago,
   * waits only for what is left of the time to start it).
   */
  private waitedFor(waitedMs: number, startBy: number | undefined): number {
    return startBy === undefined ? waitedMs : Math.max(waitedMs, this.queueTimeoutMs - (startBy - performance.now()));
  }

  /**
   * CLAIMS_BUSY for a claim request that has only just arrived, when the gate would shed it now or it is past
   * its start-by time (`startWithinMs` zero or less: see claim); undefined when it may go on (see
   * AdmissionGate.shedOnArrival).
   */
  shedOnArrival(startWithinMs?: number): DomainError | undefined {
    const late = startWithinMs !== undefined && startWithinMs <= 0;
    if (late) this.noteLate(startWithinMs);
    const shed = late ? this.admission.shedLate() : this.admission.shedOnArrival();
    return shed && busy(shed);
  }

  /**
   * Counts a claim that arrived past its start-by time and says so in the log at most every
   * LATE_WARNING_EVERY_MS: expected on a saturated machine, but on an idle one it means that this host's clock
   * is ahead of the gateway's by more than half its timeout, and every claim through the gateway is shed.
   */
  private noteLate(startWithinMs: number): void {
    const spell = this.late.note(-startWithinMs);
    if (!spell) return;
    this.logger.warn(
      `${spell.count} claim(s) arrived past their start-by time (up to ${Math.round(spell.worstMs)} ms) and were not ` +
        "started: this server is saturated, or its clock is ahead of the gateway's (see X-Internal-Start-By)",
    );
  }

  private admitted(eventId: string, userId: string, idempotencyKey: string | undefined, run: ClaimRun): Promise<ClaimOutcome> {
    run.admitted = true;
    return this.idempotency.execute(
      this.keyed(eventId, userId, idempotencyKey),
      async (lineage) => {
        // This request decides (the key is its own, or there is none), rather than replaying an answer.
        run.decided = true;
        // The claim's id: one per use of the key (see keyedClaimId), else a new one.
        const id =
          idempotencyKey !== undefined && lineage !== undefined ? keyedClaimId(userId, idempotencyKey, lineage) : newClaimId();
        if (idempotencyKey !== undefined) await this.faults.at('key-taken');
        return outcomeOf(await this.run(eventId, userId, id, run, idempotencyKey));
      },
      this.keyOptions,
    );
  }

  private keyed(eventId: string, userId: string, key: string | undefined): IdempotentRequest {
    return { userId, key, requestHash: requestHash(`POST /events/${eventId}/claims`, {}) };
  }

  private readonly keyOptions: ExecuteOptions<ClaimOutcome> = {
    // An interrupted request is retried by its client, not replayed: the reconciler forgets its key.
    final: (outcome) => outcome.refusal !== 'CLAIM_INTERRUPTED',
    // A key left IN_PROGRESS by a request that recorded its claim (then died, or is finishing): that claim.
    recorded: async (record) => recordedOutcomeOf(await this.claims.findRecordedUnder(record)),
    // A refusal born final under the key's own claim id never changes: the key needs no copy of it.
    recordedForGood: (outcome, key) =>
      this.bornFinal.has(outcome.claim) &&
      key.lineageStored &&
      outcome.claim.id === keyedClaimId(key.userId, key.key, key.lineage),
  };

  /**
   * Refusals as this process recorded them (or read them from the store): system rejections, born final, that
   * no decision ever changes (see recordedForGood). Held weakly, by the record an outcome carries.
   */
  private readonly bornFinal = new WeakSet<ClaimRecord>();

  /** Decides and records the request's one claim, under `id` (whatever its outcome: one document). */
  private async run(
    eventId: string,
    userId: string,
    id: string,
    claimRun: ClaimRun,
    idempotencyKey?: string,
  ): Promise<ClaimRecord> {
    const { event, rewards, limited } = await this.catalog.require(eventId);
    // Separation of duties, as for reviews and imports: staff who also play do not claim an event they set up or
    // changed (they could have made its condition, approval or rewards theirs). Refused, nothing recorded.
    if (event.editorIds.includes(userId)) {
      throw new DomainError(
        403,
        CommonErrorCode.FORBIDDEN,
        'An event is not claimed by anyone who created or changed it or its rewards; another player may claim it',
      );
    }
    const base = {
      id,
      eventId,
      userId,
      rewards: rewards.map((reward) => claimRewardOf({ ...reward, rewardId: reward.id })),
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      createdAt: new Date(),
    };
    if (!isClaimable(event, base.createdAt)) return this.recordRefusal(base, 'EVENT_NOT_ACTIVE');
    const slotKey = slotKeyOf(eventId, userId);
    if (this.heldSlots.has(slotKey)) {
      // Held by another request (another key, or none): refused without a read; by this very key: see recordRefusal.
      const sameKey = idempotencyKey !== undefined && this.heldSlots.get(slotKey) === idempotencyKey;
      return this.recordRefusal(base, 'ALREADY_CLAIMED', sameKey ? undefined : null);
    }
    // An early answer from this process's memory (the unit inserts decide), before the player's activities
    // are read: once the stock is gone, most of a launch crowd is told so, and eligible or not, there is
    // nothing left to grant them. A player who already holds a claim is told so, not that the stock is
    // gone: one read of their slot.
    if (limited.some((reward) => this.stock.believedSoldOut(reward))) {
      return this.refuseUnlessHeld(base, slotKey, claimRun, 'OUT_OF_STOCK');
    }
    const progress = await this.progress.evaluate(event, userId);
    if (!progress.eligible) {
      // Already claimed comes before the condition, whichever server answers and whatever it remembers: a player
      // who holds a claim (granted, then the condition was raised) is told so, not to go and meet it. One read of
      // the slot, for a refusal only (an eligible claim's insert is refused by the slot's unique index).
      return this.refuseUnlessHeld(base, slotKey, claimRun, 'CONDITION_NOT_MET');
    }

    const outcome = event.approval === 'AUTO' ? 'GRANTED' : 'PENDING';
    // At most one limited reward of an event has its units recorded on the claims themselves.
    const onClaim = limited.find((reward) => reward.unitsOnClaims);
    const inUnits = limited.filter((reward) => !reward.unitsOnClaims);
    if (inUnits.length === 0) return this.recordBornDecided(base, slotKey, outcome, onClaim);

    // The unique slot key admits one blocking claim per (event, user): a second tap is refused here. The
    // claim takes the unit it holds on itself with this same insert.
    const inserted = await this.insertHolding({ ...base, status: 'PROCESSING', slotKey }, onClaim);
    if ('refused' in inserted) return this.recordRefusal(base, inserted.refused, inserted.holder);
    const claim: ClaimRecord = inserted.claim;
    await this.faults.at('intent-inserted');

    const took = await this.takeStock(claim.id, inUnits);
    const unitDocuments = inUnits.slice(0, took).map((reward) => reward.id);
    if (took < inUnits.length) {
      // The rejection gives back whatever this claim took (all or none), the unit on the claim included.
      return this.decisions.decideOwn(claim, transitionFor('FAIL', 'PROCESSING')!, {
        reason: 'OUT_OF_STOCK',
        decidedBy: SYSTEM_ACTOR,
        unitDocuments,
      });
    }
    const transition = transitionFor(outcome === 'GRANTED' ? 'GRANT' : 'HOLD_FOR_REVIEW', 'PROCESSING')!;
    const decided = await this.decisions.decideOwn(claim, transition, { decidedBy: SYSTEM_ACTOR, unitDocuments });
    this.noteHeld(decided);
    await this.faults.at('claim-finished');
    return decided;
  }

  /** The stock is gone: a player who already holds a claim is told so, not that (one read of their slot). */
  private async soldOut(slotKey: string): Promise<{ reason: 'ALREADY_CLAIMED' | 'OUT_OF_STOCK'; holder?: ClaimRecord }> {
    const holder = await this.holderOf(slotKey);
    return holder ? { reason: 'ALREADY_CLAIMED', holder } : { reason: 'OUT_OF_STOCK' };
  }

  /**
   * Records the refusal of a request refused for what it holds or not (`reason`: sold out, or not
   * eligible): ALREADY_CLAIMED when a claim holds the player's slot (one read), else `reason`. A player's
   * taps that reach this process at once go one after the other (see claim): when the one this request
   * waited for read the slot free after this request arrived, and then recorded its refusal itself, that
   * read answers for this request too, as its own would have (on FerretDB each read of a slot reads the
   * whole `claims` table). A read made before this request arrived is not used (the player may have been
   * granted elsewhere since, and told so), nor one after which the refusal found its own id taken by a claim
   * of its key's (see recordRefusal).
   */
  private async refuseUnlessHeld(
    base: Omit<NewClaim, 'status' | 'slotKey'>,
    slotKey: string,
    claimRun: ClaimRun,
    reason: 'OUT_OF_STOCK' | 'CONDITION_NOT_MET',
  ): Promise<ClaimRecord> {
    if (claimRun.slotSeenFree) return this.recordRefusal(base, reason);
    const readAt = performance.now();
    const holder = await this.holderOf(slotKey);
    if (holder) return this.recordRefusal(base, 'ALREADY_CLAIMED', holder);
    const refusal = await this.recordRefusal(base, reason);
    if (this.bornFinal.has(refusal)) claimRun.slotFreeReadAt = readAt;
    return refusal;
  }

  /** The claim holding the slot, if any (one read); remembered when it holds the slot for good. */
  private async holderOf(slotKey: string): Promise<ClaimRecord | undefined> {
    const holder = await this.claims.findBySlot(slotKey);
    if (holder) this.noteHeld(holder);
    return holder;
  }

  private noteHeld(claim: ClaimRecord): void {
    if (claim.status !== 'GRANTED' && claim.status !== 'PENDING') return;
    if (this.heldSlots.size >= HELD_SLOTS_KEPT) this.heldSlots.delete(this.heldSlots.keys().next().value!);
    this.heldSlots.set(claim.slotKey, claim.idempotencyKey);
  }

  /**
   * Inserts the claim, holding a unit of `onClaim` when given (the inserted claim carries it, and the unique
   * `unitKey` decides it); else refused: ALREADY_CLAIMED (the slot is held) or OUT_OF_STOCK (see soldOut). When a claim
   * carrying a unit is refused and the store does not name the index (FerretDB), one read of the slot tells
   * which was held: the slot (the player holds a claim) or the unit (try another).
   */
  private async insertHolding<T extends NewClaim>(
    claim: T,
    onClaim: RewardRecord | undefined,
  ): Promise<{ claim: T } | { refused: 'ALREADY_CLAIMED' | 'OUT_OF_STOCK'; holder?: ClaimRecord }> {
    if (!onClaim) return (await this.claims.tryInsert(claim)) ? { claim } : { refused: 'ALREADY_CLAIMED' };
    let inserted: T | undefined;
    let holder: ClaimRecord | undefined;
    const taken = await this.stock.takeOnClaim(onClaim, async (unit) => {
      const holding = { ...claim, unit: { rewardId: onClaim.id, unit } };
      const result = await this.claims.insert(holding);
      if (result === 'INSERTED') {
        inserted = holding;
        return 'TAKEN';
      }
      // Its own id taken: this key's claim is recorded (keyedClaimId), the answer recordRefusal gives.
      if (result === 'SLOT_HELD' || result === 'ID_TAKEN') return 'STOP';
      if (result === 'UNIT_HELD') return 'HELD';
      holder = await this.holderOf(claim.slotKey);
      if (holder) return 'STOP';
      // The store did not say which index (FerretDB): with a key, its claim may be recorded already.
      // Every time: taken later (a stalled run of the key waking), it would refuse every unit, forever.
      if (claim.idempotencyKey !== undefined && (await this.claims.findById(claim.id))) return 'STOP';
      return 'HELD';
    });
    if (inserted) return { claim: inserted };
    if (taken === 'STOPPED') return { refused: 'ALREADY_CLAIMED', holder };
    const { reason, holder: found } = await this.soldOut(claim.slotKey);
    return { refused: reason, holder: found };
  }

  /** One `reward_units` unit of each reward, in the order given; how many it took before the first that was out. */
  private async takeStock(claimId: string, limited: readonly RewardRecord[]): Promise<number> {
    let took = 0;
    for (const reward of limited) {
      if (!(await this.stock.takeUnit(reward, claimId))) return took;
      took++;
      await this.faults.at('unit-taken');
    }
    return took;
  }

  /**
   * Nothing can fail after the claim is recorded when it takes no `reward_units` unit, so it is born
   * decided: one insert, which the unique slot key decides (a second tap is refused here) and which takes
   * the unit of the claim-held reward with it (its unique `unitKey`), carrying its payout outbox. No
   * PROCESSING state, no decision record, no projection: a crash before the insert leaves nothing, after
   * it the claim is final. Later moves (approval, rejection, revoke) are decisions as usual.
   */
  private async recordBornDecided(
    base: Omit<NewClaim, 'status' | 'slotKey'>,
    slotKey: string,
    status: 'GRANTED' | 'PENDING',
    onClaim: RewardRecord | undefined,
  ): Promise<ClaimRecord> {
    const payoutEndpointIds = this.decisions.subscribersOf(status);
    const claim: NewClaim = {
      ...base,
      status,
      slotKey,
      decidedAt: base.createdAt,
      decidedBy: SYSTEM_ACTOR,
      ...(payoutEndpointIds.length > 0 && { payout: payoutRecorded() }),
      payoutEndpointIds,
    };
    const inserted = await this.insertHolding(claim, onClaim);
    if ('refused' in inserted) return this.recordRefusal(base, inserted.refused, inserted.holder);
    this.noteHeld(inserted.claim);
    await this.faults.at('claim-finished');
    const { payoutEndpointIds: _outbox, ...recorded } = inserted.claim;
    return recorded;
  }

  /**
   * A system rejection is born final and never holds the slot (its slot key is its own id). A request with
   * an Idempotency-Key told ALREADY_CLAIMED looks at the claim holding the slot (`holder`: undefined = not
   * read yet, null = known to be another request's): when it carries the same key, it is this very
   * request's claim, recorded by an earlier run of it whose key was taken over after its replica fell
   * silent (see InstanceLiveness) or released by the reconciler. A GRANTED or PENDING one (within the keys'
   * retention: the same key text long after is another intent) is the answer, and nothing new is recorded,
   * so the key and the claim say the same; one still PROCESSING makes this request IDEMPOTENCY_IN_PROGRESS
   * (not stored on the key: a retry then gets that claim's outcome once it is decided).
   */
  private async recordRefusal(
    base: Omit<NewClaim, 'status' | 'slotKey'>,
    reason: ClaimReason,
    holder?: ClaimRecord | null,
  ): Promise<ClaimRecord> {
    if (reason === 'ALREADY_CLAIMED' && base.idempotencyKey !== undefined && holder !== null) {
      const held = holder ?? (await this.claims.findBySlot(slotKeyOf(base.eventId, base.userId)));
      if (held?.idempotencyKey === base.idempotencyKey) {
        if (held.status === 'PROCESSING') {
          throw idempotencyInProgress();
        }
        const recent = held.createdAt.getTime() >= Date.now() - IDEMPOTENCY_RETENTION_MS;
        if ((held.status === 'GRANTED' || held.status === 'PENDING') && recent) return held;
      }
    }
    const claim: NewClaim = {
      ...base,
      status: 'REJECTED',
      reason,
      slotKey: ownSlotKey(base.id),
      decidedAt: base.createdAt,
      decidedBy: SYSTEM_ACTOR,
    };
    if (await this.claims.tryInsert(claim)) {
      this.bornFinal.add(claim);
      return claim;
    }
    // Only its own id refuses a refusal (its slot key is that id): a claim this request's key already
    // recorded, by a run that took the key over or by the stalled owner it was taken from (keyedClaimId).
    // That claim is the answer, and nothing new is recorded.
    return (await this.recordedUnder(base.id)) ?? claim;
  }

  /** The claim recorded under `id`, if any; one still PROCESSING makes this request IDEMPOTENCY_IN_PROGRESS. */
  private async recordedUnder(id: string): Promise<ClaimRecord | undefined> {
    const recorded = await this.claims.findById(id);
    if (recorded?.status === 'PROCESSING') throw idempotencyInProgress();
    return recorded;
  }
}
