import { randomUUID } from 'node:crypto';
import type { Server } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { type DeliveryResult, type DeliveryVerdict, backoffDelayMs, classifyDelivery } from './delivery-policy.js';
import { EVENT_SERVER_TIMEOUT_MS, EventServerClient } from './event-server.client.js';
import type { OutboxMessage } from './outbox-message.js';
import { OutboxRepository, type RetrySchedule } from './outbox.repository.js';

/** Longer than one request can take, so a row is not taken twice while it is in flight. */
export const LEASE_MS = 3 * EVENT_SERVER_TIMEOUT_MS;
export const DELIVERED_RETENTION_MS = 7 * 86_400_000;
const SWEEP_EVERY_MS = 3_600_000;
/**
 * How soon a poll runs after a row is written (nudge), instead of at the next interval: a LOGIN counts for
 * a player's progress a moment after signing in, and a demotion binds on the event server as fast. The rows
 * written meanwhile (a burst of sign-ins) go in the same poll.
 */
export const NUDGE_DELAY_MS = 10;

export interface RelayRunSummary {
  taken: number;
  delivered: number;
  retried: number;
  failed: number;
}

/**
 * Polls the outbox and delivers due rows to the event server: all due activities in one request per poll,
 * audit entries one per request. Every replica runs one; a lease on each row keeps them from sending the
 * same row twice in the common case, and the receiver's externalId makes the rare double send harmless.
 * Timers are unref'd and cleared on shutdown; an in-flight request is aborted and its rows given back.
 */
/** How long after start an event server that cannot be reached yet is taken for one still starting (see OutboxRelay). */
const STARTING_GRACE_MS = 60_000;

@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly instanceId = randomUUID();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** Its polls have begun (see started). */
  private polls = false;
  /** When the timer fires (Infinity when none is set). */
  private timerDueAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private polling = false;
  /** A row was written during a poll: the next one runs after NUDGE_DELAY_MS, not the interval. */
  private nudged = false;
  /** The last poll had to schedule retries: the receiver is failing, so rows wait for the interval. */
  private failing = false;
  /**
   * The event server has answered this process at least once. Until then, for STARTING_GRACE_MS after this process
   * started, a refused connection is most likely one started beside it that is not listening yet (npm start,
   * Compose): said at info, not as a warning. Past that (a wrong EVENT_SERVICE_URL, a server that never came up),
   * a warning.
   */
  private eventServerAnswered = false;
  private readonly startedAt = Date.now();
  private lastSweep = 0;
  private takes = 0;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly outbox: OutboxRepository,
    private readonly eventServer: EventServerClient,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.outbox.enabled) {
      this.logger.warn('OUTBOX_ENABLED=false: activities and audit entries are stored but not delivered');
      return;
    }
    this.logger.log(`delivering the outbox to ${this.config.outbox.eventServiceUrl}`);
    // The first poll once this server listens: the event server verifies the relay's tokens with the keys it
    // fetches from here, so a poll before that was answered 503 "keys unavailable" and retried, with a warning
    // in both servers' logs at every start. An app that is never made to listen (tests drive runOnce) relays nothing.
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || server.listening) this.start();
    else server.once('listening', () => this.start());
  }

  /** Whether its polls have begun (once the server listens). */
  get started(): boolean {
    return this.polls;
  }

  private start(): void {
    this.polls = true;
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    // The in-flight poll sees the abort, gives its rows back and ends; the database is still open here.
    await this.running;
  }

  /**
   * A row was just written (OutboxService): poll within NUDGE_DELAY_MS rather than at the next interval.
   * At most one poll runs at a time, so a burst of rows costs polls back to back, not one each; while
   * deliveries fail, rows wait for the interval as before (no request per sign-in to a failing receiver).
   */
  nudge(): void {
    if (
      !this.config.outbox.enabled ||
      this.stopping.signal.aborted ||
      this.failing ||
      (this.timer === undefined && !this.polling)
    ) {
      return;
    }
    if (this.polling) {
      this.nudged = true;
      return;
    }
    if (this.timerDueAt - Date.now() <= NUDGE_DELAY_MS) return;
    clearTimeout(this.timer);
    this.schedule(NUDGE_DELAY_MS);
  }

  /** One poll: take due rows, deliver them, record the outcome. Public so tests can drive it directly. */
  async runOnce(now = new Date()): Promise<RelayRunSummary> {
    const summary: RelayRunSummary = { taken: 0, delivered: 0, retried: 0, failed: 0 };
    this.takes += 1;
    const messages = await this.outbox.lease(
      now,
      this.config.outbox.batchSize,
      `${this.instanceId}:${this.takes}`,
      new Date(now.getTime() + LEASE_MS),
    );
    summary.taken = messages.length;
    const activities = messages.filter((message) => message.kind === 'ACTIVITY');
    const audits = messages.filter((message) => message.kind === 'AUDIT');
    // First: the event server's 60-second bound on stale staff tokens rests on these arriving promptly.
    for (const notice of messages) {
      if (notice.kind !== 'ACCESS') continue;
      await this.deliver([notice], (signal) => this.eventServer.postAccessVersion(notice.payload, signal), summary);
    }
    if (activities.length > 0) await this.deliverActivities(activities, summary);
    for (const audit of audits) {
      await this.deliver([audit], (signal) => this.eventServer.postAuditEntry(audit.payload, signal), summary);
    }
    await this.sweepDelivered(now);
    return summary;
  }

  private schedule(delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.timerDueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timerDueAt = Number.POSITIVE_INFINITY;
      this.running = this.tick();
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let next = this.config.outbox.intervalMs;
    this.polling = true;
    this.nudged = false;
    try {
      const summary = await this.runOnce();
      this.failing = summary.retried > 0;
      // A full batch means more is waiting: keep draining without the poll pause.
      if (summary.taken >= this.config.outbox.batchSize && summary.retried === 0) next = 0;
      else if (this.nudged && !this.failing) next = NUDGE_DELAY_MS;
    } catch (error) {
      this.failing = true;
      if (!this.stopping.signal.aborted) this.logger.warn(`outbox poll failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
    this.schedule(next);
  }

  private async deliverActivities(messages: OutboxMessage[], summary: RelayRunSummary): Promise<void> {
    const items = messages.flatMap((message) => (message.kind === 'ACTIVITY' ? [message.payload] : []));
    const verdict = await this.deliver(messages, (signal) => this.eventServer.postActivities(items, signal), summary, {
      recordPoison: messages.length === 1,
    });
    // The event server refuses a whole batch for one bad item: find it by sending the batch one by one.
    if (verdict === 'poison' && messages.length > 1) {
      for (const message of messages) await this.deliverActivities([message], summary);
    }
  }

  private async deliver(
    messages: OutboxMessage[],
    send: (signal: AbortSignal) => Promise<DeliveryResult>,
    summary: RelayRunSummary,
    options: { recordPoison: boolean } = { recordPoison: true },
  ): Promise<DeliveryVerdict['verdict']> {
    const outcome = classifyDelivery(await send(this.stopping.signal));
    if (outcome.verdict !== 'abandoned' && !(outcome.verdict === 'retry' && outcome.unreachable)) this.eventServerAnswered = true;
    const now = new Date();
    const ids = messages.map((message) => message.id);
    switch (outcome.verdict) {
      case 'delivered':
        await this.outbox.markDelivered(ids, now);
        summary.delivered += messages.length;
        break;
      case 'abandoned':
        await this.outbox.release(ids, now);
        break;
      case 'retry': {
        const schedules: RetrySchedule[] = messages.map((message) => ({
          id: message.id,
          attempts: message.attempts + 1,
          nextAttemptAt: new Date(now.getTime() + backoffDelayMs(message.attempts + 1, this.backoff)),
          lastError: outcome.error,
        }));
        await this.outbox.scheduleRetries(schedules);
        summary.retried += messages.length;
        if (outcome.unreachable && !this.eventServerAnswered && Date.now() - this.startedAt < STARTING_GRACE_MS) {
          this.logger.log(
            `event server not reachable yet (starting?): ${messages.length} outbox message(s) wait and will be retried: ${outcome.error}`,
          );
        } else this.logger.warn(`event server did not take ${messages.length} outbox message(s), will retry: ${outcome.error}`);
        break;
      }
      case 'poison':
        if (!options.recordPoison) break;
        for (const message of messages) {
          await this.outbox.markFailed(message.id, message.attempts + 1, now, outcome.error);
          this.logger.error(
            `outbox message ${message.id} (${message.kind}) refused by the event server, not retried: ${outcome.error}`,
          );
        }
        summary.failed += messages.length;
        break;
    }
    return outcome.verdict;
  }

  private get backoff(): { baseMs: number; maxMs: number } {
    return { baseMs: this.config.outbox.retryBaseMs, maxMs: this.config.outbox.retryMaxMs };
  }

  private async sweepDelivered(now: Date): Promise<void> {
    if (now.getTime() - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now.getTime();
    const deleted = await this.outbox.deleteDeliveredBefore(new Date(now.getTime() - DELIVERED_RETENTION_MS));
    if (deleted > 0) this.logger.log(`removed ${deleted} outbox row(s) delivered over 7 days ago`);
  }
}
