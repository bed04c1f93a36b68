import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { isStoreUnavailable } from '@reward/server-kit/store-unavailable';
import { AtMostEvery } from '@reward/server-kit/at-most-every';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { type WebhookEndpointRecord, lastDisabling, wasDisabledAt } from '../webhooks/webhook-endpoint.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { WebhookEndpointsService } from '../webhooks/webhook-endpoints.service.js';
import { webhookEventFor } from '../webhooks/webhook-events.js';
import { signingSecrets } from '../webhooks/webhook-secret.js';
import type { AttemptUpdate, DeliveryRecord, LeaseKey, NewDelivery, SendRequest } from './delivery.js';
import { DeliveryRepository, leaseId, owedTo } from './delivery.repository.js';
import { ClaimLoad, loadClock } from './claim-load.js';
import { ClaimPayoutService, SUMMARY_SWEEP_MS } from './claim-payout.service.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';
import { type AttemptResult, goneAtOldUrl, outcomeOf } from './payout.rules.js';
import { webhookHeaders } from './webhook-signature.js';
import { sendWebhook } from './webhook-sender.js';

const OUTBOX_BATCH = 500;
/**
 * A round that could not wait for quiet claims takes this many outbox entries (and twice as many due
 * deliveries): its store commands then stay small enough to slip between claims.
 */
const PRESSED_OUTBOX_BATCH = 32;
/** A lease older than the send timeout plus this belongs to a relay that died while sending. */
const LEASE_GRACE_MS = 30_000;
/**
 * A leased delivery waits at most this long for a free slot, then lets its lease go: well inside the grace,
 * so that no other relay takes a waiting lease for one whose holder died.
 */
const QUEUE_WAIT_MS = LEASE_GRACE_MS / 2;
/**
 * A delivery whose lease another relay held is not offered room again for this long (or until the lease could
 * lapse, if sooner): a dead relay's leases, the oldest due, then cost an endpoint's room once in a while, not
 * every round; one let go unsent (a replica that stopped) is taken within this time.
 */
const LEASED_ELSEWHERE_RECHECK_MS = 5_000;
/** The relay holds (sending or waiting for a slot) at most this many leased deliveries per slot. */
const HELD_PER_SLOT = 8;
/** One endpoint's deliveries held at most this many times its share of the slots. */
const HELD_PER_ENDPOINT_SHARE = 4;
/** The longest pause between polls while no endpoint is enabled (leftovers of deleted endpoints). */
const IDLE_POLL_MS = 30_000;
/**
 * While nothing is waiting, the pause between polls doubles up to this many relay intervals: decisions
 * recorded by this process wake the relay at once, so polling is only for other replicas' decisions
 * and retries, which it finds within that time.
 */
const IDLE_BACKOFF_FACTOR = 16;
/**
 * The longest a round waits for the claim path to be quiet (in total, over all its steps). Claims first,
 * but under sustained claims a round still runs this long after it was due, and the rounds after it do
 * not wait for quiet again until the backlog is gone (they work in small batches, between claims): under
 * load webhooks run late, never indefinitely.
 */
export const MAX_CLAIM_DEFER_MS = 1_500;
/** Past that bound, the longest one step waits for a moment with no claim in flight. */
const GAP_WAIT_MS = 50;
/** Send-now requests made through other replicas are read this often (those made through this one at once). */
export const SEND_REQUESTS_POLL_MS = 5_000;
/**
 * A send-now request older than this is not looked at any more, and is removed (a backlog of an endpoint
 * drains at its share of the relay's sends, 5 s at most each: an hour for some 10,000 deliveries to a receiver
 * that times out on every one).
 */
const SEND_REQUEST_WINDOW_MS = 24 * 3600_000;
/** How often a relay removes the send-now requests past the window. */
const SEND_REQUEST_PRUNE_MS = 3600_000;

interface Finished {
  delivery: DeliveryRecord;
  result: AttemptResult;
  /** Nothing more will come of this attempt's endpoint (deleted or disabled): no retry schedule. */
  final: boolean;
  /**
   * Its endpoint was deleted or disabled before its transition was recorded (by a replica whose copy still
   * listed it): not sent, removed, so that its claim's payout does not wait for it or fail because of it.
   */
  dropped?: boolean;
  /** When the attempt's lease was taken: what the attempt is recorded at (alike within one take, so grouped). */
  at: Date;
  /** The attempt of a relay that died mid-attempt, recorded by another: nothing is known to have been sent. */
  cutOff?: boolean;
  /** The endpoint's url the attempt was sent to (a 410 speaks for that address only: see movedAway). */
  sentTo?: string;
}

/**
 * Turns outbox entries (decisions marked payoutPending) into deliveries and sends the due ones. Safe on
 * every replica at once: deliveries are unique per (decision, endpoint) and each attempt is sent by the
 * one relay whose lease insert the unique index accepted.
 *
 * Sends run in a pool of PAYOUT_RELAY_CONCURRENCY slots that rounds feed without waiting for them: a finished
 * send frees its slot for the next due delivery, and one endpoint holds at most half of the slots, so a
 * receiver that hangs until the timeout delays only its own webhooks. Attempts that end while others are
 * being recorded are recorded together next.
 *
 * Its store work is batched per round, not per delivery (the relay shares the store, and on a 2-core
 * machine the CPU, with the claim path): one read of the outbox, one of its claims, one insert of the
 * deliveries, one update of the outbox; then one insert of the leases, one re-read of the leased
 * deliveries, one insert of the attempts and one update per group of attempts that ended alike, one
 * removal of the leases, and the claims' payout summaries (a read each, one update per group of alike
 * summaries). And it gives way to claims in this process (ClaimLoad): each store step waits for a quiet
 * moment, within a bound per round.
 */
@Injectable()
export class PayoutRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PayoutRelay.name);
  private timer?: NodeJS.Timeout;
  private timerAt = Number.POSITIVE_INFINITY;
  private inRound = false;
  /** Rounds failed in a row (the log says so at the first and when one succeeds again). */
  private failedRounds = 0;
  /** A wake during a round: the next round starts within this delay. */
  private nextDelayCap = Number.POSITIVE_INFINITY;
  private running?: Promise<void>;
  private stopped = false;
  private idleDelay: number;
  /**
   * Leases of other relays this relay lost (by lease id: the delivery and its next attempt), and until when
   * they are not tried again. An attempt recorded meanwhile names another lease.
   */
  private readonly leasedElsewhere = new Map<string, number>();
  /** Which kind of work goes first in this round's turns (see takeTurns). */
  private firstTurn = 0;
  /** Set by each round: whether work was found, and whether more was left than one round takes. */
  private lastRound = { busy: false, backlog: false };
  private lastDueCheck = 0;
  private readonly summarySweep = new AtMostEvery(SUMMARY_SWEEP_MS);
  /** When retries this relay scheduled fall due (it polls for them then, not only when its backoff says). */
  private retryTimes: number[] = [];
  /** Until when (loadClock) this round's store steps wait for the claim path to be quiet (0: they do not). */
  private yieldUntil = 0;
  /** A round was held back as long as allowed and left a backlog: rounds do not wait for quiet until it is gone. */
  private owed = false;
  /** The most sends one endpoint has in flight at once. */
  private readonly endpointShare: number;
  /** Leased deliveries this relay holds (waiting, sending or being recorded), by id: their endpoint. */
  private readonly held = new Map<string, string>();
  private readonly heldPerEndpoint = new Map<string, number>();
  /** Leased deliveries waiting for a slot, oldest first. */
  private readonly waiting: Waiting[] = [];
  private readonly sending = new Set<Promise<void>>();
  private readonly sendingTo = new Map<string, number>();
  private toRecord: Array<{ delivery: DeliveryRecord; finished: Finished | undefined; resolve: (made: boolean) => void }> = [];
  private flushing?: Promise<void>;
  /** A round left due work for want of a slot: a slot that frees starts the next round. */
  private starved = false;
  private readonly endpointReads = new Map<string, Promise<WebhookEndpointRecord | undefined>>();
  /** The latest send-now request of each endpoint that still has deliveries last attempted before it. */
  private readonly sendRequests = new Map<string, SendRequest>();
  /** The latest retry-failed request of each endpoint that may still have FAILED deliveries last attempted before it. */
  private readonly retryRequests = new Map<string, SendRequest>();
  /** Send-now and retry-failed requests a look found nothing left of (by id: when they were made). */
  private readonly sendRequestsDone = new Map<string, number>();
  private sendRequestsReadAt = 0;
  private readonly sendRequestsPrune = new AtMostEvery(SEND_REQUEST_PRUNE_MS);
  /** The deliveries a look for a send-now request found, while this relay may attempt them: for which request. */
  private readonly requestedFor = new Map<string, SendRequest>();

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly outbox: PayoutOutboxRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly endpointSettings: WebhookEndpointsService,
    private readonly directory: WebhookEndpointDirectory,
    private readonly claimPayout: ClaimPayoutService,
    private readonly load: ClaimLoad,
  ) {
    this.idleDelay = config.payout.relayIntervalMs;
    this.endpointShare = Math.max(1, Math.floor(config.payout.concurrency / 2));
  }

  onApplicationBootstrap(): void {
    if (this.config.payout.relayIntervalMs === 0) return;
    this.directory.onSubscribed(() => this.wake());
    this.scheduleIn(this.config.payout.relayIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    // Waiting deliveries let their leases go; those being sent finish and are recorded.
    this.pump();
    while (this.sending.size > 0 || this.flushing) {
      await Promise.all([...this.sending]);
      await this.flushing;
    }
  }

  /**
   * Work is coming (a decision with webhooks is being recorded in this process, or a delivery was
   * retried): a round starts within one interval, which lets the decision's projection land and gathers
   * the decisions of that interval into one batch.
   */
  wake(): void {
    if (this.config.payout.relayIntervalMs === 0) return;
    this.idleDelay = this.config.payout.relayIntervalMs;
    this.scheduleIn(this.config.payout.relayIntervalMs);
  }

  private scheduleIn(delay: number): void {
    if (this.stopped) return;
    if (this.inRound) {
      this.nextDelayCap = Math.min(this.nextDelayCap, delay);
      return;
    }
    const at = Date.now() + delay;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.round(), delay);
  }

  private round(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.inRound = true;
    this.nextDelayCap = Number.POSITIVE_INFINITY;
    this.running = this.runOnce()
      .then(
        () => {
          if (this.failedRounds > 0) this.logger.log(`Payout relay rounds succeed again (${this.failedRounds} failed)`);
          this.failedRounds = 0;
          return this.nextDelay();
        },
        (error: unknown) => {
          // Said once per failing spell (a round runs every PAYOUT_RELAY_INTERVAL_MS), and its end above.
          if (this.failedRounds === 0) {
            const message = `Payout relay round failed, and is retried every round until one succeeds: ${String(error)}`;
            if (isStoreUnavailable(error)) this.logger.warn(message);
            else this.logger.error(message);
          }
          this.failedRounds++;
          return this.config.payout.relayIntervalMs;
        },
      )
      .then((delay) => {
        this.inRound = false;
        this.scheduleIn(Math.min(delay, this.nextDelayCap));
      });
  }

  /** A backlog is worked off without a pause; after work, one interval; while idle, a growing pause. */
  private nextDelay(): number {
    const interval = this.config.payout.relayIntervalMs;
    if (this.lastRound.backlog) return 0;
    if (this.lastRound.busy) {
      this.idleDelay = interval;
      return interval;
    }
    const delay = this.idleDelay;
    const longest = this.directory.hasEndpoints() ? interval * IDLE_BACKOFF_FACTOR : IDLE_POLL_MS;
    this.idleDelay = Math.min(this.idleDelay * 2, Math.max(longest, interval));
    const nextRetry = this.retryTimes.reduce((soonest, time) => Math.min(soonest, time), Number.POSITIVE_INFINITY) - Date.now();
    return Math.max(0, Math.min(delay, nextRetry));
  }

  /** One round: record the deliveries of new decisions, then send what is due. Exposed for tests. */
  async runOnce(): Promise<void> {
    this.yieldUntil = this.owed ? 0 : loadClock() + MAX_CLAIM_DEFER_MS;
    try {
      // Claims first: the round starts once no claim has run for a moment (or when it may wait no longer).
      await this.load.quiet(this.yieldUntil, true);
      await this.work(new Date(), this.load.busy());
    } finally {
      this.owed = this.lastRound.backlog && (this.owed || loadClock() >= this.yieldUntil);
      this.yieldUntil = 0;
    }
  }

  /**
   * Before each step of store work: wait while claims run in this process, within the round's bound. Past
   * the bound the relay still slips its steps between claims, waiting a moment at most for each gap.
   */
  private async yieldToClaims(): Promise<void> {
    if (loadClock() < this.yieldUntil) await this.load.quiet(this.yieldUntil);
    else await this.load.gap(loadClock() + GAP_WAIT_MS);
  }

  private async work(now: Date, pressed: boolean): Promise<void> {
    const batch = pressed ? PRESSED_OUTBOX_BATCH : OUTBOX_BATCH;
    const { waiting, fresh } = await this.expandOutbox(batch);
    const limit = pressed ? PRESSED_OUTBOX_BATCH * 2 : this.config.payout.concurrency * HELD_PER_SLOT;
    // Three kinds of work take turns (see takeTurns): first attempts, attempts a send-now request asks for, and
    // due retries. Each is looked for on its own, so that no kind's backlog hides the others from the look.
    let firsts: DeliveryRecord[] = fresh.slice(0, limit);
    let owed: DeliveryRecord[] = [];
    let retries: DeliveryRecord[] = [];
    const interval = this.config.payout.relayIntervalMs;
    // The deliveries just recorded are due now and known; the store is asked for other due ones (other
    // replicas' decisions, retries) when this round has none of its own, and otherwise now and then.
    const retryDue = this.retryTimes.some((time) => time <= now.getTime());
    let foundFull = false;
    let earlyLeft = false;
    if (fresh.length === 0 || retryDue || now.getTime() - this.lastDueCheck >= interval * IDLE_BACKOFF_FACTOR) {
      this.lastDueCheck = now.getTime();
      this.retryTimes = this.retryTimes.filter((time) => time > now.getTime());
      // Endpoints whose share this relay holds already are left out: their backlog must not hide the others'.
      // Their due deliveries wait for held ones to be let go, which starts the next round (see flush).
      const full = this.fullEndpoints();
      if (full.length > 0) this.starved = true;
      await this.yieldToClaims();
      const foundFirsts = await this.deliveries.findDue(now, limit, { skipEndpoints: full, attempted: false });
      await this.yieldToClaims();
      retries = await this.deliveries.findDue(now, limit, { skipEndpoints: full, attempted: true });
      foundFull = foundFirsts.length === limit || retries.length === limit;
      // Oldest first among first attempts too: one dropped for want of room (below) goes before newer ones.
      firsts = [...new Map([...firsts, ...foundFirsts].map((delivery) => [delivery.id, delivery])).values()].sort(
        (a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime(),
      );
      const early = await this.requestedEarly(now, limit, full);
      earlyLeft = early.more;
      owed = early.found;
      // A due retry a request still owes an attempt is sent for the request, whichever look found it.
      for (const delivery of retries) {
        const request = this.sendRequests.get(delivery.endpointId);
        if (request && owedTo(request, delivery)) this.requestedFor.set(delivery.id, request);
      }
    }
    const due = this.takeTurns([firsts, owed, retries], limit);
    const { taken: made } = await this.take(this.room(due));
    // A delivery found for a request but not taken now (its lease lost, or no room) is found again while owed.
    for (const id of this.requestedFor.keys()) if (!this.held.has(id)) this.requestedFor.delete(id);
    if (this.summarySweep.due(now.getTime())) {
      await this.yieldToClaims();
      await this.claimPayout.sweep(now);
    }
    // More fresh deliveries than one round sends (or than the pool had room for) are found by the next round's due query.
    if (fresh.length > limit || this.starved || earlyLeft) this.lastDueCheck = 0;
    this.lastRound = {
      busy: waiting + made > 0,
      backlog: waiting === batch || fresh.length > limit || ((foundFull || earlyLeft) && made > 0),
    };
  }

  /**
   * A send-now or retry-failed request made through this process: the endpoint's deliveries last attempted
   * before it (PENDING, or FAILED) are sent from the next round on (other replicas read it within
   * SEND_REQUESTS_POLL_MS).
   */
  sendNow(request: SendRequest): void {
    this.noteSendRequest(request);
    this.lastDueCheck = 0;
    this.wake();
  }

  private noteSendRequest(request: SendRequest): void {
    if (this.sendRequestsDone.has(request.id)) return;
    const requests = request.kind === 'RETRY_FAILED' ? this.retryRequests : this.sendRequests;
    const known = requests.get(request.endpointId);
    if (!known || known.at.getTime() < request.at.getTime()) requests.set(request.endpointId, request);
  }

  /** A look found nothing left of the request: it is forgotten, unless a newer one of its endpoint came in meanwhile. */
  private requestDone(request: SendRequest): void {
    const requests = request.kind === 'RETRY_FAILED' ? this.retryRequests : this.sendRequests;
    if (requests.get(request.endpointId) === request) requests.delete(request.endpointId);
    this.sendRequestsDone.set(request.id, request.at.getTime());
  }

  /**
   * The deliveries send-now and retry-failed requests ask for (at most `room`): of each requested endpoint (but
   * `skipEndpoints`), those PENDING and last attempted before its latest send-now request, and those FAILED and
   * last attempted before its latest retry-failed request, made PENDING again here (see reopenFailed). A request
   * is done once a look finds none: each delivery attempted since has a later last attempt (or, made PENDING
   * for the request, its mark). `more`: some may be left for the next round.
   */
  private async requestedEarly(
    now: Date,
    room: number,
    skipEndpoints: readonly string[],
  ): Promise<{ found: DeliveryRecord[]; more: boolean }> {
    if (now.getTime() - this.sendRequestsReadAt >= SEND_REQUESTS_POLL_MS) {
      this.sendRequestsReadAt = now.getTime();
      const since = new Date(now.getTime() - SEND_REQUEST_WINDOW_MS);
      for (const [id, at] of this.sendRequestsDone) if (at < since.getTime()) this.sendRequestsDone.delete(id);
      await this.yieldToClaims();
      // The collection stays a day's requests (it is read whole on FerretDB, where the time is not pushed down).
      if (this.sendRequestsPrune.due(now.getTime())) await this.deliveries.pruneSendRequests(since);
      for (const request of await this.deliveries.latestSendRequests(since)) this.noteSendRequest(request);
    }
    const found: DeliveryRecord[] = [];
    let more = false;
    for (const [endpointId, request] of this.sendRequests) {
      if (room - found.length <= 0) return { found, more: true };
      // No more of one endpoint than this relay may still hold of it: the rest of the room goes to the next.
      const left = Math.min(room - found.length, this.heldPerEndpointLimit - (this.heldPerEndpoint.get(endpointId) ?? 0));
      if (left <= 0 || skipEndpoints.includes(endpointId)) {
        more = true;
        continue;
      }
      await this.yieldToClaims();
      const deliveries = await this.deliveries.findOwedTo(request, left);
      // Unless a newer request of the endpoint came in meanwhile (it is looked for at the next round).
      if (deliveries.length === 0) this.requestDone(request);
      if (deliveries.length === left) more = true;
      for (const delivery of deliveries) this.requestedFor.set(delivery.id, request);
      found.push(...deliveries);
    }
    for (const [endpointId, request] of this.retryRequests) {
      if (room - found.length <= 0) return { found, more: true };
      // Nor more than the pool has room for: those made PENDING and not taken would pile up while it is full.
      const free = this.config.payout.concurrency * HELD_PER_SLOT - this.held.size - found.length;
      const left = Math.min(room - found.length, free, this.heldPerEndpointLimit - (this.heldPerEndpoint.get(endpointId) ?? 0));
      if (left <= 0 || skipEndpoints.includes(endpointId)) {
        more = true;
        continue;
      }
      const reopened = await this.reopenFailed(request, left, now);
      if (reopened.more) more = true;
      found.push(...reopened.found);
    }
    return { found, more };
  }

  /**
   * Makes up to `limit` of the FAILED deliveries a retry-failed request asks for PENDING again, due now, with a
   * fresh retry schedule, as POST /deliveries/{id}/retry does one: of the relays (and operators) retrying one
   * failure at once, the retry record's unique insert lets one through. Returns those this relay made PENDING:
   * they are then sent like the deliveries a send-now request asks for, at the endpoint's share (and, if this
   * relay stops first, by any relay as due retries). So a request costs the relays a bounded look per round,
   * however many deliveries failed, and makes PENDING no more than the endpoint's share is about to send.
   */
  private async reopenFailed(
    request: SendRequest,
    limit: number,
    now: Date,
  ): Promise<{ found: DeliveryRecord[]; more: boolean }> {
    const endpoint = await this.endpointOf(request.endpointId);
    // Deleted or disabled since the request: each would fail again at once, reaching nobody (the route refuses both).
    if (!endpoint?.enabled) {
      this.requestDone(request);
      return { found: [], more: false };
    }
    await this.yieldToClaims();
    const failed = await this.deliveries.findFailedOwedTo(request, limit);
    if (failed.length === 0) {
      this.requestDone(request);
      return { found: [], more: false };
    }
    await this.yieldToClaims();
    // Stamped when taken, not when the round began (`now`, maybe long before on a busy store): a record that
    // looks older than it is would be taken over as a dead holder's by an operator's retry or another relay.
    const won = await this.deliveries.tryRetries(
      failed.map((delivery) => ({ deliveryId: delivery.id, fromAttempt: delivery.attempts })),
      request.actorId,
      new Date(),
    );
    // Those another holds are made PENDING by it (or, if it died, by a later look here once its hold lapses).
    const mine = failed.filter((_delivery, index) => won[index]);
    if (mine.length > 0) {
      await this.yieldToClaims();
      // The summary leases are taken before the deliveries change: a crash in between leaves them for the sweep.
      await this.claimPayout.refresh(
        mine.map((delivery) => delivery.claimId),
        () => this.deliveries.reopenFailed(mine, now, request.id),
      );
    }
    const reopened = mine.map((delivery): DeliveryRecord => ({
      ...delivery,
      status: 'PENDING',
      nextAttemptAt: now,
      retryBase: delivery.attempts,
      retryRequestId: request.id,
    }));
    return { found: reopened, more: failed.length === limit || mine.length < failed.length };
  }

  private get heldPerEndpointLimit(): number {
    return this.endpointShare * HELD_PER_ENDPOINT_SHARE;
  }

  /** Endpoints of which this relay holds as many deliveries as one endpoint may. */
  private fullEndpoints(): string[] {
    const limit = this.heldPerEndpointLimit;
    return [...this.heldPerEndpoint].filter(([, count]) => count >= limit).map(([endpointId]) => endpointId);
  }

  /**
   * The candidates in the order they are offered to the pool (at most `limit`, none held already): the next
   * of each list in turn, the list that goes first changing every round. Each endpoint's room is handed out
   * in that order (see room), so its new deliveries, the attempts a send-now request asks for and its due
   * retries go out side by side: none waits for another's backlog, however long, and none starves (each list
   * goes first every third round, even when an endpoint has room for one delivery a round).
   */
  private takeTurns(lists: ReadonlyArray<readonly DeliveryRecord[]>, limit: number): DeliveryRecord[] {
    const now = Date.now();
    for (const [key, until] of this.leasedElsewhere) if (until <= now) this.leasedElsewhere.delete(key);
    const first = this.firstTurn;
    this.firstTurn = (first + 1) % lists.length;
    const order = [...lists.slice(first), ...lists.slice(0, first)];
    const next = order.map(() => 0);
    const chosen = new Map<string, DeliveryRecord>();
    for (let found = true; found && chosen.size < limit;) {
      found = false;
      order.forEach((list, index) => {
        for (let at = next[index] as number; at < list.length; at += 1) {
          const delivery = list[at] as DeliveryRecord;
          if (this.held.has(delivery.id) || chosen.has(delivery.id) || this.isLeasedElsewhere(delivery, now)) continue;
          if (chosen.size < limit) chosen.set(delivery.id, delivery);
          next[index] = at + 1;
          found = true;
          return;
        }
        next[index] = list.length;
      });
    }
    return [...chosen.values()];
  }

  /** Whether another relay held the lease of the delivery's next attempt at the last try, and may still. */
  private isLeasedElsewhere(delivery: DeliveryRecord, now: number): boolean {
    return (this.leasedElsewhere.get(leaseId(this.keyOf(delivery))) ?? 0) > now;
  }

  /** The due deliveries the pool has room for (in all, and per endpoint); leaving any marks the relay starved. */
  private room(due: readonly DeliveryRecord[]): DeliveryRecord[] {
    let free = this.config.payout.concurrency * HELD_PER_SLOT - this.held.size;
    const perEndpoint = new Map(this.heldPerEndpoint);
    const chosen: DeliveryRecord[] = [];
    for (const delivery of due) {
      if (this.held.has(delivery.id)) continue;
      const count = perEndpoint.get(delivery.endpointId) ?? 0;
      if (free <= 0 || count >= this.heldPerEndpointLimit) {
        this.starved = true;
        continue;
      }
      free -= 1;
      perEndpoint.set(delivery.endpointId, count + 1);
      chosen.push(delivery);
    }
    return chosen;
  }

  /** Records the deliveries of the waiting outbox entries; returns how many entries waited and the deliveries this call recorded. */
  async expandOutbox(batch = OUTBOX_BATCH): Promise<{ waiting: number; fresh: DeliveryRecord[] }> {
    const pending = await this.outbox.findPending(batch);
    if (pending.length === 0) return { waiting: 0, fresh: [] };
    // Wait until the decision is applied (by its request or by the reconciler) and projected: the
    // projection that marks the claim PENDING must come before the relay's own payout writes, never after.
    const applied = pending.filter((candidate) => candidate.applied);
    await this.yieldToClaims();
    const claims = await this.outbox.findClaims([...new Set(applied.map((entry) => entry.claimId))]);
    const built = applied.map((entry) => deliveriesOf(entry, claims.get(entry.claimId)));
    const expanded = applied.filter((_entry, index) => built[index] !== undefined);
    // One insert for the whole batch; the unique (decision, endpoint) index makes a repeat harmless.
    await this.yieldToClaims();
    const fresh = await this.deliveries.insertMissing(built.flatMap((deliveries) => deliveries ?? []));
    await this.yieldToClaims();
    await this.outbox.markExpanded(expanded);
    return { waiting: pending.length, fresh };
  }

  /** How many attempts this relay made (due deliveries another relay holds the lease of do not count). */
  async sendDue(now: Date): Promise<number> {
    return this.attemptAll(await this.deliveries.findDue(now, this.config.payout.concurrency * HELD_PER_SLOT));
  }

  /** One attempt of one delivery, if this relay wins its lease; true when an attempt was made. */
  async attempt(delivery: DeliveryRecord): Promise<boolean> {
    return (await this.attemptAll([delivery])) > 0;
  }

  /** One attempt of each delivery whose lease this relay wins; resolves once they are recorded, with how many were made. */
  async attemptAll(candidates: readonly DeliveryRecord[]): Promise<number> {
    const { done } = await this.take(candidates);
    return (await done).filter(Boolean).length;
  }

  /**
   * Takes the leases of the candidates (one insert) and hands those this relay won to the send pool; resolves
   * once they are handed over, with how many were, and `done`: whether each was attempted, once recorded.
   */
  private async take(candidates: readonly DeliveryRecord[]): Promise<{ taken: number; done: Promise<boolean[]> }> {
    const unheld = [...new Map(candidates.map((delivery) => [delivery.id, delivery])).values()].filter(
      (delivery) => !this.held.has(delivery.id),
    );
    if (unheld.length === 0 || this.stopped) return { taken: 0, done: Promise.resolve([]) };
    const startedAt = new Date();
    await this.yieldToClaims();
    const won = await this.deliveries.tryLeases(
      unheld.map((delivery) => this.keyOf(delivery)),
      startedAt,
    );
    const leased = unheld.filter((_delivery, index) => won[index]);
    const lost = unheld.filter((_delivery, index) => !won[index]);
    for (const delivery of leased) this.hold(delivery);
    let lapsed: DeliveryRecord[] = [];
    let taken = new Map<string, Date>();
    try {
      // A lease still there long after the send timeout belongs to a relay that died mid-attempt.
      if (lost.length > 0) {
        await this.yieldToClaims();
        taken = await this.deliveries.leasesTakenAt(lost.map((delivery) => this.keyOf(delivery)));
        const deadAfter = this.config.payout.timeoutMs + LEASE_GRACE_MS;
        lapsed = lost.filter((delivery) => {
          const takenAt = taken.get(leaseId(this.keyOf(delivery)));
          return !this.held.has(delivery.id) && takenAt !== undefined && startedAt.getTime() - takenAt.getTime() > deadAfter;
        });
        // The others are another relay's attempts in flight (or a dead relay's, not lapsed yet): not offered room
        // again for a while, so that the oldest due, found first every round, do not take it every round.
        const recheckAt = Date.now() + LEASED_ELSEWHERE_RECHECK_MS;
        for (const delivery of lost) {
          const key = leaseId(this.keyOf(delivery));
          const takenAt = taken.get(key);
          if (takenAt !== undefined && !lapsed.includes(delivery))
            this.leasedElsewhere.set(key, Math.min(takenAt.getTime() + deadAfter, recheckAt));
        }
      }
      for (const delivery of lapsed) this.hold(delivery);
      // Leases are removed once their attempt is recorded, so winning one proves nothing on its own: the
      // delivery must still be pending at the attempt the lease names (one read for all of them).
      await this.yieldToClaims();
      const current = new Map(
        (await this.deliveries.findPendingByIds([...leased, ...lapsed].map((delivery) => delivery.id))).map((delivery) => [
          delivery.id,
          delivery,
        ]),
      );
      const stillDue = (delivery: DeliveryRecord): DeliveryRecord | undefined => {
        const now = current.get(delivery.id);
        return now && now.attempts === delivery.attempts ? now : undefined;
      };
      // A delivery no longer due lets its lease go unsent; a lapsed one is recorded as cut off, the others wait for a slot.
      const done: Array<Promise<boolean>> = [];
      for (const delivery of leased) {
        const due = stillDue(delivery);
        done.push(due ? this.enqueue(due, startedAt) : this.settle(delivery, undefined));
      }
      for (const delivery of lapsed) {
        const due = stillDue(delivery);
        const result = { latencyMs: 0, error: 'the sending process stopped mid-attempt' };
        // Recorded at the time the dead relay took it (when the attempt began), not now: a send-now request made
        // between the two still finds the delivery, which never reached the receiver.
        const at = taken.get(leaseId(this.keyOf(delivery))) ?? startedAt;
        done.push(
          due ? this.settle(due, { delivery: due, result, final: false, at, cutOff: true }) : this.settle(delivery, undefined),
        );
      }
      this.pump();
      return { taken: leased.length + lapsed.length, done: Promise.all(done) };
    } catch (error) {
      // Nothing was handed over (only the reads above can fail): the leases won are let go, the deliveries stay due.
      for (const delivery of [...leased, ...lapsed]) this.unhold(delivery);
      await this.deliveries.releaseLeases(leased.map((delivery) => this.keyOf(delivery)));
      throw error;
    }
  }

  private keyOf(delivery: DeliveryRecord): LeaseKey {
    return { deliveryId: delivery.id, attempt: delivery.attempts + 1 };
  }

  private hold(delivery: DeliveryRecord): void {
    this.held.set(delivery.id, delivery.endpointId);
    count(this.heldPerEndpoint, delivery.endpointId, 1);
  }

  private unhold(delivery: DeliveryRecord): void {
    if (this.held.delete(delivery.id)) count(this.heldPerEndpoint, delivery.endpointId, -1);
    this.requestedFor.delete(delivery.id);
  }

  /** A leased delivery waits for a free slot; resolves once its attempt is recorded (false: let go unsent). */
  private enqueue(delivery: DeliveryRecord, leasedAt: Date): Promise<boolean> {
    return new Promise((resolve) => this.waiting.push({ delivery, leasedAt, resolve }));
  }

  /**
   * Starts sends while slots are free: the oldest waiting delivery whose endpoint has fewer than its share
   * of sends in flight, so that a receiver that hangs holds at most that share and the others keep flowing.
   * A delivery that waited too long lets its lease go (it is taken again, by whichever relay is free).
   */
  private pump(): void {
    const now = Date.now();
    for (let index = 0; index < this.waiting.length && this.sending.size < this.config.payout.concurrency;) {
      const item = this.waiting[index] as Waiting;
      if (this.stopped || now - item.leasedAt.getTime() > QUEUE_WAIT_MS) {
        this.waiting.splice(index, 1);
        void this.settle(item.delivery, undefined).then(item.resolve);
        continue;
      }
      if ((this.sendingTo.get(item.delivery.endpointId) ?? 0) >= this.endpointShare) {
        index += 1;
        continue;
      }
      this.waiting.splice(index, 1);
      this.start(item);
    }
  }

  private start({ delivery, leasedAt, resolve }: Waiting): void {
    const endpointId = delivery.endpointId;
    count(this.sendingTo, endpointId, 1);
    const sending: Promise<void> = this.send(delivery)
      .catch((error: unknown) => {
        this.logger.error(`Payout send failed: ${String(error)}`);
        return undefined;
      })
      .then((sent) => {
        this.sending.delete(sending);
        count(this.sendingTo, endpointId, -1);
        void this.settle(delivery, sent && { ...sent, at: leasedAt }).then(resolve);
        this.pump();
      });
    this.sending.add(sending);
  }

  /**
   * Records the attempt (undefined: none was made) and lets its lease go. Attempts that end while others are
   * being recorded are recorded together next, so their writes stay grouped.
   */
  private settle(delivery: DeliveryRecord, finished: Finished | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      this.toRecord.push({ delivery, finished, resolve });
      this.flushing ??= this.flush().finally(() => {
        this.flushing = undefined;
      });
    });
  }

  private async flush(): Promise<void> {
    while (this.toRecord.length > 0) {
      const batch = this.toRecord.splice(0);
      let recorded = false;
      try {
        await this.finishAll(batch.flatMap(({ finished }) => (finished ? [finished] : [])));
        recorded = true;
      } catch (error) {
        this.logger.error(`Payout relay could not record attempts: ${String(error)}`);
      }
      try {
        await this.yieldToClaims();
        await this.deliveries.releaseLeases(batch.map(({ delivery }) => this.keyOf(delivery)));
      } catch (error) {
        // A lease left behind is taken over once it is old enough to belong to a dead relay.
        this.logger.error(`Payout relay could not release leases: ${String(error)}`);
      }
      for (const { delivery, finished, resolve } of batch) {
        this.unhold(delivery);
        resolve(recorded && finished !== undefined);
      }
      // Room is made (only now: a delivery counts against its endpoint until its attempt is recorded): due work
      // a round had to leave for lack of it is taken now, not after the relay's idle pause (up to 30 s).
      // While others still wait for a slot, one interval; once none does, at once (then it is no longer owed).
      if (this.starved && this.waiting.length === 0) {
        this.starved = false;
        this.scheduleIn(0);
      } else if (this.starved) this.scheduleIn(this.config.payout.relayIntervalMs);
    }
  }

  /** One attempt, with the endpoint as it is right before sending (a change made through this process shows at once). */
  private async send(delivery: DeliveryRecord): Promise<Omit<Finished, 'at'>> {
    const endpoint = await this.endpointOf(delivery.endpointId);
    if (!endpoint) {
      const removedAt = await this.endpoints.removedAt(delivery.endpointId);
      const dropped = removedAt !== undefined && delivery.createdAt.getTime() >= removedAt.getTime();
      return { delivery, result: { latencyMs: 0, error: 'the endpoint was deleted' }, final: true, dropped };
    }
    if (!endpoint.enabled) {
      const disabledAt = lastDisabling(endpoint);
      // Disabled since its transition, or already then (an earlier disabling, enabled again between): owed nothing.
      if ((disabledAt && delivery.createdAt.getTime() >= disabledAt.getTime()) || wasDisabledAt(endpoint, delivery.createdAt))
        return { delivery, result: { latencyMs: 0, error: 'the endpoint is disabled' }, final: true, dropped: true };
      const why = `the endpoint is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`;
      return { delivery, result: { latencyMs: 0, error: why }, final: true };
    }
    // Enabled again since: a transition recorded while it was disabled (by a replica whose copy still listed it)
    // was owed nothing, as when it is found still disabled.
    if (wasDisabledAt(endpoint, delivery.createdAt))
      return { delivery, result: { latencyMs: 0, error: 'the endpoint was disabled then' }, final: true, dropped: true };
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders(signingSecrets(endpoint.secrets, new Date()), delivery.webhookId, timestamp, delivery.body);
    const result = await sendWebhook(endpoint.url, headers, delivery.body, {
      timeoutMs: this.config.payout.timeoutMs,
      allowPrivate: this.config.payout.allowPrivateNetworks,
    });
    return { delivery, result, final: false, sentTo: endpoint.url };
  }

  /** Records the attempts (grouped writes) under their claims' summary leases, then the claims' payout summaries. */
  private async finishAll(finished: readonly Finished[]): Promise<void> {
    if (finished.length === 0) return;
    const now = new Date();
    // One jitter draw for the attempts recorded together: those that failed alike retry at one time and are
    // written by one update (a draw each made one update per failed attempt, and a receiver's outage was
    // recorded at ~19 attempts/s). The relay's concurrency still paces their retries when they fall due.
    const draw = Math.random();
    const records: Array<{ id: string; update: AttemptUpdate }> = [];
    const dropped: string[] = [];
    const disable = new Map<string, string>();
    const moved = await this.movedAway(finished);
    for (const { delivery, result: answered, final, dropped: drop, at, cutOff, sentTo } of finished) {
      if (drop) {
        dropped.push(delivery.id);
        continue;
      }
      const number = delivery.attempts + 1;
      // Made for a send-now request: like a manual retry, its retry schedule starts over, and the delivery is
      // marked with the request, so that no look for it finds the delivery again (whatever the clocks say). An
      // attempt cut off by a relay's death is not marked: the request still owes the delivery its attempt.
      const request = this.requestedFor.get(delivery.id);
      const retryBase = request ? delivery.attempts : delivery.retryBase;
      const retriesDone = number - retryBase - 1;
      // A 410 from the address the endpoint had before it was moved is an attempt that failed, retried at the new one.
      const result = moved.has(delivery.id) ? goneAtOldUrl(answered) : answered;
      const outcome = outcomeOf(
        result,
        final ? Number.MAX_SAFE_INTEGER : retriesDone,
        this.config.payout.retryScheduleMs,
        now,
        () => draw,
      );
      const error = outcome.status === 'DELIVERED' ? undefined : outcome.error;
      if (outcome.status === 'FAILED' && outcome.disableEndpoint && sentTo !== undefined)
        disable.set(delivery.endpointId, sentTo);
      if (outcome.status === 'PENDING') this.retryTimes.push(outcome.nextAttemptAt.getTime());
      records.push({
        id: delivery.id,
        update: {
          attempt: {
            attempt: number,
            at,
            ...(answered.statusCode !== undefined && { statusCode: answered.statusCode }),
            latencyMs: result.latencyMs,
            ...(error !== undefined && { error }),
          },
          status: outcome.status,
          ...(outcome.status === 'PENDING' && { nextAttemptAt: outcome.nextAttemptAt }),
          ...(outcome.status === 'DELIVERED' && { deliveredAt: now }),
          ...(request && { retryBase }),
          ...(request && !cutOff && { sendRequestId: request.id }),
        },
      });
    }
    // The endpoint is disabled before the delivery is recorded FAILED: whoever sees the FAILED sees why.
    for (const [endpointId, sentTo] of disable) {
      // An admin changing this endpoint right now holds it: the attempts are still recorded, and the next 410 disables it.
      await this.endpointSettings
        .disable(endpointId, 'the receiver answered 410 Gone', sentTo)
        .catch((error: unknown) =>
          this.logger.warn(`Endpoint ${endpointId} answered 410 but was not disabled: ${String(error)}`),
        );
    }
    for (const endpointId of disable.keys()) await this.directory.changed(endpointId, null);
    await this.yieldToClaims();
    // The summary leases are taken before the attempts are written: a crash in between leaves them for the sweep.
    await this.claimPayout.refresh(
      finished.map(({ delivery }) => delivery.claimId),
      async () => {
        await this.deliveries.recordAttempts(records);
        await this.deliveries.removePending(dropped);
        await this.yieldToClaims();
      },
    );
  }

  /**
   * The deliveries whose attempt was answered 410 at a url their endpoint no longer has: it was moved (PATCH url)
   * while the attempt was in flight, or this replica's copy still had the old url. A receiver being moved is often
   * retired with a 410 at its old address, which says nothing of the new one: that 410 must neither disable the
   * endpoint nor fail the webhook, still owed at the new address. Read from the store (a 410 is rare), since this
   * replica's copy may be the stale one.
   */
  private async movedAway(finished: readonly Finished[]): Promise<Set<string>> {
    const moved = new Set<string>();
    const gone = finished.filter(({ result, sentTo }) => result.statusCode === 410 && sentTo !== undefined);
    const urls = new Map<string, Promise<string | undefined>>();
    for (const { delivery, sentTo } of gone) {
      let url = urls.get(delivery.endpointId);
      if (!url) {
        // Unread (the store failing): judged as before, and disable() still compares the url under its lock.
        url = this.endpoints
          .findById(delivery.endpointId)
          .then((endpoint) => endpoint?.url)
          .catch(() => undefined);
        urls.set(delivery.endpointId, url);
      }
      const now = await url;
      if (now !== undefined && now !== sentTo) moved.add(delivery.id);
    }
    return moved;
  }

  /**
   * The endpoint as this process knows it: the directory's copy of an enabled one (no I/O; dropped at once
   * when changed through this process, else within WEBHOOK_ENDPOINT_CACHE_MS), otherwise the store's. Sends
   * that start together share one read.
   */
  private endpointOf(id: string): Promise<WebhookEndpointRecord | undefined> {
    const cached = this.directory.cached(id);
    if (cached) return Promise.resolve(cached);
    let read = this.endpointReads.get(id);
    if (!read) {
      read = this.endpoints.findById(id).finally(() => this.endpointReads.delete(id));
      this.endpointReads.set(id, read);
    }
    return read;
  }
}

/** The deliveries of one decision, or undefined while its claim is not projected yet. */
export function deliveriesOf(entry: OutboxEntry, claim: PayoutClaim | undefined): NewDelivery[] | undefined {
  // A live claim's decision is born applied and its projection lands a moment later: wait for it (or
  // for the reconciler), so that the projection's payout PENDING never lands after the relay's summary.
  if (claim?.status === 'PROCESSING') return undefined;
  const type = webhookEventFor(entry.toStatus, entry.fromStatus);
  if (!type || !claim) return [];
  const body = JSON.stringify({
    id: entry.decisionId,
    type,
    createdAt: entry.at.toISOString(),
    data: {
      id: claim.id,
      eventId: claim.eventId,
      userId: claim.userId,
      status: entry.toStatus,
      ...(entry.reason !== undefined && { reason: entry.reason }),
      ...(entry.note !== undefined && { note: entry.note }),
      rewards: claim.rewards,
      createdAt: claim.createdAt.toISOString(),
      // As the claim reads: a PENDING claim is not decided yet, so it has no decidedAt.
      ...(entry.toStatus !== 'PENDING' && { decidedAt: entry.at.toISOString() }),
    },
  });
  return entry.endpointIds.map((endpointId) => ({
    decisionId: entry.decisionId,
    endpointId,
    claimId: entry.claimId,
    type,
    webhookId: entry.decisionId,
    body,
    status: 'PENDING',
    attempts: 0,
    retryBase: 0,
    nextAttemptAt: entry.at,
    createdAt: entry.at,
  }));
}

/** Adds `by` to a per-endpoint count; a count back at 0 leaves the map (so its keys are the endpoints counted). */
function count(counts: Map<string, number>, endpointId: string, by: 1 | -1): void {
  const now = (counts.get(endpointId) ?? 0) + by;
  if (now > 0) counts.set(endpointId, now);
  else counts.delete(endpointId);
}

interface Waiting {
  delivery: DeliveryRecord;
  leasedAt: Date;
  resolve: (made: boolean) => void;
}
