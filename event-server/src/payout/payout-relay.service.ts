import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AtMostEvery } from '../common/at-most-every.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import type { WebhookEndpointRecord } from '../webhooks/webhook-endpoint.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { webhookEventFor } from '../webhooks/webhook-events.js';
import { signingSecrets } from '../webhooks/webhook-secret.js';
import type { AttemptUpdate, DeliveryRecord, LeaseKey, NewDelivery } from './delivery.js';
import { DeliveryRepository, leaseId } from './delivery.repository.js';
import { ClaimLoad } from './claim-load.js';
import { ClaimPayoutService, SUMMARY_SWEEP_MS } from './claim-payout.service.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';
import { type AttemptResult, outcomeOf } from './payout.rules.js';
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

interface Finished {
  delivery: DeliveryRecord;
  result: AttemptResult;
  /** Nothing more will come of this attempt's endpoint (deleted or disabled): no retry schedule. */
  final: boolean;
}

/**
 * Turns outbox entries (decisions marked payoutPending) into deliveries and sends the due ones. Safe on
 * every replica at once: deliveries are unique per (decision, endpoint) and each attempt is sent by the
 * one relay whose lease insert the unique index accepted.
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
  /** A wake during a round: the next round starts within this delay. */
  private nextDelayCap = Number.POSITIVE_INFINITY;
  private running?: Promise<void>;
  private stopped = false;
  private idleDelay: number;
  /** Set by each round: whether work was found, and whether more was left than one round takes. */
  private lastRound = { busy: false, backlog: false };
  private lastDueCheck = 0;
  private readonly summarySweep = new AtMostEvery(SUMMARY_SWEEP_MS);
  /** When retries this relay scheduled fall due (it polls for them then, not only when its backoff says). */
  private retryTimes: number[] = [];
  /** Until when this round's store steps wait for the claim path to be quiet (0: they do not). */
  private yieldUntil = 0;
  /** A round was held back as long as allowed and left a backlog: rounds do not wait for quiet until it is gone. */
  private owed = false;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly outbox: PayoutOutboxRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly directory: WebhookEndpointDirectory,
    private readonly claimPayout: ClaimPayoutService,
    private readonly load: ClaimLoad,
  ) {
    this.idleDelay = config.payout.relayIntervalMs;
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
        () => this.nextDelay(),
        (error: unknown) => {
          this.logger.error(`Payout relay round failed: ${String(error)}`);
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
    this.yieldUntil = this.owed ? 0 : Date.now() + MAX_CLAIM_DEFER_MS;
    try {
      // Claims first: the round starts once no claim has run for a moment (or when it may wait no longer).
      await this.load.quiet(this.yieldUntil, true);
      await this.work(new Date(), this.load.busy());
    } finally {
      this.owed = this.lastRound.backlog && (this.owed || Date.now() >= this.yieldUntil);
      this.yieldUntil = 0;
    }
  }

  /**
   * Before each step of store work: wait while claims run in this process, within the round's bound. Past
   * the bound the relay still slips its steps between claims, waiting a moment at most for each gap.
   */
  private async yieldToClaims(): Promise<void> {
    if (Date.now() < this.yieldUntil) await this.load.quiet(this.yieldUntil);
    else await this.load.gap(Date.now() + GAP_WAIT_MS);
  }

  private async work(now: Date, pressed: boolean): Promise<void> {
    const batch = pressed ? PRESSED_OUTBOX_BATCH : OUTBOX_BATCH;
    const { waiting, fresh } = await this.expandOutbox(batch);
    const limit = pressed ? PRESSED_OUTBOX_BATCH * 2 : this.config.payout.concurrency * 8;
    const due = fresh.slice(0, limit);
    const interval = this.config.payout.relayIntervalMs;
    // The deliveries just recorded are due now and known; the store is asked for other due ones (other
    // replicas' decisions, retries) when this round has none of its own, and otherwise now and then.
    const retryDue = this.retryTimes.some((time) => time <= now.getTime());
    let foundFull = false;
    if (fresh.length === 0 || retryDue || now.getTime() - this.lastDueCheck >= interval * IDLE_BACKOFF_FACTOR) {
      this.lastDueCheck = now.getTime();
      this.retryTimes = this.retryTimes.filter((time) => time > now.getTime());
      const known = new Set(due.map((delivery) => delivery.id));
      await this.yieldToClaims();
      const found = await this.deliveries.findDue(now, limit);
      foundFull = found.length === limit;
      for (const delivery of found) if (due.length < limit && !known.has(delivery.id)) due.push(delivery);
    }
    const made = await this.attemptAll(due);
    if (this.summarySweep.due(now.getTime())) {
      await this.yieldToClaims();
      await this.claimPayout.sweep(now);
    }
    // More fresh deliveries than one round sends are found by the next round's due query.
    if (fresh.length > limit) this.lastDueCheck = 0;
    this.lastRound = {
      busy: waiting + made > 0,
      backlog: waiting === batch || fresh.length > limit || (foundFull && made > 0),
    };
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
    const built = applied.map((entry) => this.deliveriesOf(entry, claims.get(entry.claimId)));
    const expanded = applied.filter((_entry, index) => built[index] !== undefined);
    // One insert for the whole batch; the unique (decision, endpoint) index makes a repeat harmless.
    await this.yieldToClaims();
    const fresh = await this.deliveries.insertMissing(built.flatMap((deliveries) => deliveries ?? []));
    await this.yieldToClaims();
    await this.outbox.markExpanded(expanded);
    return { waiting: pending.length, fresh };
  }

  /** The deliveries of one decision, or undefined while its claim is not projected yet. */
  private deliveriesOf(entry: OutboxEntry, claim: PayoutClaim | undefined): NewDelivery[] | undefined {
    // A live claim's decision is born applied and its projection lands a moment later: wait for it (or
    // for the reconciler), so that the projection's payout PENDING never lands after the relay's summary.
    if (claim?.status === 'PROCESSING') return undefined;
    const type = webhookEventFor(entry.toStatus);
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
        decidedAt: entry.at.toISOString(),
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

  /** How many attempts this relay made (due deliveries another relay holds the lease of do not count). */
  async sendDue(now: Date): Promise<number> {
    return this.attemptAll(await this.deliveries.findDue(now, this.config.payout.concurrency * 8));
  }

  /** One attempt of one delivery, if this relay wins its lease; true when an attempt was made. */
  async attempt(delivery: DeliveryRecord): Promise<boolean> {
    return (await this.attemptAll([delivery])) > 0;
  }

  /** One attempt of each delivery whose lease this relay wins, all written together; returns how many were made. */
  async attemptAll(candidates: readonly DeliveryRecord[]): Promise<number> {
    if (candidates.length === 0 || this.stopped) return 0;
    const startedAt = new Date();
    const keys = candidates.map((delivery) => ({ deliveryId: delivery.id, attempt: delivery.attempts + 1 }));
    await this.yieldToClaims();
    const won = await this.deliveries.tryLeases(keys, startedAt);
    const held = candidates.filter((_delivery, index) => won[index]);
    const lost = candidates.filter((_delivery, index) => !won[index]);
    // A lease still there long after the send timeout belongs to a relay that died mid-attempt.
    let lapsed: DeliveryRecord[] = [];
    if (lost.length > 0) {
      await this.yieldToClaims();
      const taken = await this.deliveries.leasesTakenAt(lost.map((delivery) => this.keyOf(delivery)));
      const deadAfter = this.config.payout.timeoutMs + LEASE_GRACE_MS;
      lapsed = lost.filter((delivery) => {
        const takenAt = taken.get(leaseId(this.keyOf(delivery)));
        return takenAt !== undefined && startedAt.getTime() - takenAt.getTime() > deadAfter;
      });
    }
    // Leases are removed once their attempt is recorded, so winning one proves nothing on its own: the
    // delivery must still be pending at the attempt the lease names (one read for the whole round).
    await this.yieldToClaims();
    const current = new Map(
      (await this.deliveries.findPendingByIds([...held, ...lapsed].map((delivery) => delivery.id))).map((delivery) => [
        delivery.id,
        delivery,
      ]),
    );
    const stillDue = (delivery: DeliveryRecord): DeliveryRecord | undefined => {
      const now = current.get(delivery.id);
      return now && now.attempts === delivery.attempts ? now : undefined;
    };
    const toSend = held.map(stillDue).filter((delivery) => delivery !== undefined);
    const abandoned = held.filter((delivery) => stillDue(delivery) === undefined);
    const dead = lapsed.map(stillDue).filter((delivery) => delivery !== undefined);

    const endpoints = new Map<string, Promise<WebhookEndpointRecord | undefined>>();
    const sent = await this.inParallel(toSend, (delivery) => this.send(delivery, endpoints));
    const finished: Finished[] = [
      ...sent,
      ...dead.map((delivery) => ({
        delivery,
        result: { latencyMs: 0, error: 'the sending process stopped mid-attempt' },
        final: false,
      })),
    ];
    try {
      await this.finishAll(finished, startedAt);
    } finally {
      await this.yieldToClaims();
      await this.deliveries.releaseLeases([...toSend, ...abandoned, ...dead].map((delivery) => this.keyOf(delivery)));
    }
    return finished.length;
  }

  private keyOf(delivery: DeliveryRecord): LeaseKey {
    return { deliveryId: delivery.id, attempt: delivery.attempts + 1 };
  }

  private async send(
    delivery: DeliveryRecord,
    endpoints: Map<string, Promise<WebhookEndpointRecord | undefined>>,
  ): Promise<Finished> {
    let lookup = endpoints.get(delivery.endpointId);
    if (!lookup) {
      lookup = this.endpointOf(delivery.endpointId);
      endpoints.set(delivery.endpointId, lookup);
    }
    const endpoint = await lookup;
    if (!endpoint) return { delivery, result: { latencyMs: 0, error: 'the endpoint was deleted' }, final: true };
    if (!endpoint.enabled) {
      const why = `the endpoint is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`;
      return { delivery, result: { latencyMs: 0, error: why }, final: true };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders(signingSecrets(endpoint.secrets, new Date()), delivery.webhookId, timestamp, delivery.body);
    const result = await sendWebhook(endpoint.url, headers, delivery.body, {
      timeoutMs: this.config.payout.timeoutMs,
      allowPrivate: this.config.payout.allowPrivateNetworks,
    });
    return { delivery, result, final: false };
  }

  /** Records the attempts (grouped writes) under their claims' summary leases, then the claims' payout summaries. */
  private async finishAll(finished: readonly Finished[], at: Date): Promise<void> {
    if (finished.length === 0) return;
    const now = new Date();
    const records: Array<{ id: string; update: AttemptUpdate }> = [];
    const disable = new Set<string>();
    for (const { delivery, result, final } of finished) {
      const number = delivery.attempts + 1;
      const retriesDone = number - delivery.retryBase - 1;
      const outcome = outcomeOf(result, final ? Number.MAX_SAFE_INTEGER : retriesDone, this.config.payout.retryScheduleMs, now);
      const error = outcome.status === 'DELIVERED' ? undefined : outcome.error;
      if (outcome.status === 'FAILED' && outcome.disableEndpoint) disable.add(delivery.endpointId);
      if (outcome.status === 'PENDING') this.retryTimes.push(outcome.nextAttemptAt.getTime());
      records.push({
        id: delivery.id,
        update: {
          attempt: {
            attempt: number,
            at,
            ...(result.statusCode !== undefined && { statusCode: result.statusCode }),
            latencyMs: result.latencyMs,
            ...(error !== undefined && { error }),
          },
          status: outcome.status,
          ...(outcome.status === 'PENDING' && { nextAttemptAt: outcome.nextAttemptAt }),
          ...(outcome.status === 'DELIVERED' && { deliveredAt: now }),
        },
      });
    }
    // The endpoint is disabled before the delivery is recorded FAILED: whoever sees the FAILED sees why.
    for (const endpointId of disable) {
      await this.endpoints.update(endpointId, { enabled: false, disabledReason: 'the receiver answered 410 Gone' });
    }
    if (disable.size > 0) await this.directory.refresh();
    await this.yieldToClaims();
    // The summary leases are taken before the attempts are written: a crash in between leaves them for the sweep.
    await this.claimPayout.refresh(
      finished.map(({ delivery }) => delivery.claimId),
      async () => {
        await this.deliveries.recordAttempts(records);
        await this.yieldToClaims();
      },
    );
  }

  /** `work` over the items with at most `concurrency` at a time; results in the items' order. */
  private async inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.payout.concurrency, items.length) }, worker));
    return results;
  }

  private async endpointOf(id: string): Promise<WebhookEndpointRecord | undefined> {
    return this.directory.cached(id) ?? (await this.endpoints.findById(id));
  }
}
