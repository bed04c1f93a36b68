import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ClaimRepository } from '../claims/claim.repository.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { type WebhookEndpointRecord, WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { webhookEventFor } from '../webhooks/webhook-events.js';
import { signingSecrets } from '../webhooks/webhook-secret.js';
import { type DeliveryRecord, DeliveryRepository, type NewDelivery } from './delivery.repository.js';
import { ClaimPayoutService } from './claim-payout.service.js';
import { type OutboxEntry, PayoutOutboxRepository } from './payout-outbox.repository.js';
import { type AttemptResult, outcomeOf } from './payout.rules.js';
import { webhookHeaders } from './webhook-signature.js';
import { sendWebhook } from './webhook-sender.js';

const OUTBOX_BATCH = 500;
/** A lease older than the send timeout plus this belongs to a relay that died while sending. */
const LEASE_GRACE_MS = 30_000;
/** Between polls while no endpoint is enabled and nothing was waiting (leftovers of deleted endpoints). */
const IDLE_POLL_MS = 30_000;

/**
 * Turns outbox entries (decisions marked payoutPending) into deliveries and sends the due ones. Safe on
 * every replica at once: deliveries are unique per (decision, endpoint) and each attempt is sent by the
 * one relay whose lease insert the unique index accepted.
 */
@Injectable()
export class PayoutRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PayoutRelay.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private idleUntil = 0;
  private lastSent = 0;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly outbox: PayoutOutboxRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly claims: ClaimRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly directory: WebhookEndpointDirectory,
    private readonly claimPayout: ClaimPayoutService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.payout.relayIntervalMs === 0) return;
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    // After a round that sent something, the next one starts at once: a backlog is worked off without
    // a pause per batch; rounds that find nothing due wait the interval.
    const delay = this.lastSent > 0 ? 0 : this.config.payout.relayIntervalMs;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.lastSent = 0;
          this.logger.error(`Payout relay round failed: ${String(error)}`);
        })
        .finally(() => this.schedule());
    }, delay);
  }

  /** One round: record the deliveries of new decisions, then send what is due. Exposed for tests. */
  async runOnce(now = new Date()): Promise<void> {
    // With no endpoint enabled anywhere (as far as the directory knows) and nothing left the last time,
    // poll rarely: a platform without webhooks should not pay two queries every interval.
    if (!this.directory.hasEndpoints() && now.getTime() < this.idleUntil) {
      this.lastSent = 0;
      return;
    }
    const waiting = await this.expandOutbox();
    this.lastSent = await this.sendDue(now);
    this.idleUntil = waiting + this.lastSent === 0 ? now.getTime() + IDLE_POLL_MS : 0;
  }

  /** How many outbox entries were waiting. */
  async expandOutbox(): Promise<number> {
    const pending = await this.outbox.findPending(OUTBOX_BATCH);
    // Wait until the decision is applied (by its request or by the reconciler) and projected: the
    // projection that marks the claim PENDING must come before the relay's own payout writes, never after.
    const ready = pending.filter((candidate) => candidate.applied);
    const built = await this.inParallel(ready, (entry) => this.deliveriesOf(entry));
    const expanded = ready.filter((_entry, index) => built[index] !== undefined);
    // One insert for the whole batch; the unique (decision, endpoint) index makes a repeat harmless.
    await this.deliveries.insertMissing(built.flatMap((deliveries) => deliveries ?? []));
    await this.inParallel(expanded, (entry) => this.outbox.markExpanded(entry.decisionId));
    return pending.length;
  }

  /** The deliveries of one decision, or undefined while its claim is not projected yet. */
  private async deliveriesOf(entry: OutboxEntry): Promise<NewDelivery[] | undefined> {
    const claim = await this.claims.findById(entry.claimId);
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

  /** How many attempts this relay made (due deliveries another relay holds the lease of do not count). */
  async sendDue(now: Date): Promise<number> {
    const due = await this.deliveries.findDue(now, this.config.payout.concurrency * 8);
    let made = 0;
    await this.inParallel(due, async (delivery) => {
      if (this.stopped) return;
      try {
        if (await this.attempt(delivery)) made += 1;
      } catch (error) {
        this.logger.error(`Delivery ${delivery.id} attempt failed to run: ${String(error)}`);
      }
    });
    return made;
  }

  async attempt(delivery: DeliveryRecord): Promise<boolean> {
    const number = delivery.attempts + 1;
    const startedAt = new Date();
    if (!(await this.deliveries.tryLease(delivery.id, number, startedAt))) {
      const takenAt = await this.deliveries.leaseTakenAt(delivery.id, number);
      const deadAfter = this.config.payout.timeoutMs + LEASE_GRACE_MS;
      if (takenAt && startedAt.getTime() - takenAt.getTime() > deadAfter) {
        await this.finish(delivery, number, startedAt, { latencyMs: 0, error: 'the sending process stopped mid-attempt' });
        return true;
      }
      return false;
    }
    const endpoint = await this.endpointOf(delivery.endpointId);
    let result: AttemptResult;
    if (!endpoint) result = { latencyMs: 0, error: 'the endpoint was deleted' };
    else if (!endpoint.enabled)
      result = {
        latencyMs: 0,
        error: `the endpoint is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`,
      };
    else {
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = webhookHeaders(signingSecrets(endpoint.secrets, new Date()), delivery.webhookId, timestamp, delivery.body);
      result = await sendWebhook(endpoint.url, headers, delivery.body, {
        timeoutMs: this.config.payout.timeoutMs,
        allowPrivate: this.config.payout.allowPrivateNetworks,
      });
    }
    // Nothing more will come of a deleted or disabled endpoint: no retry schedule for those.
    await this.finish(delivery, number, startedAt, result, !endpoint || !endpoint.enabled);
    return true;
  }

  private async finish(delivery: DeliveryRecord, number: number, at: Date, result: AttemptResult, final = false): Promise<void> {
    const now = new Date();
    const retriesDone = number - delivery.retryBase - 1;
    const outcome = outcomeOf(result, final ? Number.MAX_SAFE_INTEGER : retriesDone, this.config.payout.retryScheduleMs, now);
    const error = outcome.status === 'DELIVERED' ? undefined : outcome.error;
    // The endpoint is disabled before the delivery is recorded FAILED: whoever sees the FAILED sees why.
    if (outcome.status === 'FAILED' && outcome.disableEndpoint) {
      await this.endpoints.update(delivery.endpointId, { enabled: false, disabledReason: 'the receiver answered 410 Gone' });
      await this.directory.refresh();
    }
    await this.deliveries.recordAttempt(delivery.id, {
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
    });
    await this.claimPayout.refresh(delivery.claimId);
  }

  private async endpointOf(id: string): Promise<WebhookEndpointRecord | undefined> {
    return this.directory.cached(id) ?? (await this.endpoints.findById(id));
  }
}
