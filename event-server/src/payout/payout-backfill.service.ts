import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { type WebhookEndpointRecord, firstDisablingSince } from '../webhooks/webhook-endpoint.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { webhookEventFor } from '../webhooks/webhook-events.js';
import { ClaimLoad, loadClock } from './claim-load.js';
import { ClaimPayoutService } from './claim-payout.service.js';
import type { NewDelivery } from './delivery.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';
import { type PageMark, PayoutOutboxRepository } from './payout-outbox.repository.js';
import { PayoutRelay, deliveriesOf } from './payout-relay.service.js';

/**
 * How long after this process's copy starts listing an endpoint a transition recorded from its old copy may
 * still be on its way to the store (a claim or a reviewer's decision that read the copy before the swap): the
 * back-fill's second pass runs then.
 */
export const BACKFILL_SETTLE_MS = 10_000;
/** A transition not applied or projected yet is looked at again this often, this many times at most. */
const UNREADY_PASSES = 6;
/** Transitions read per page. */
const PAGE = 500;

/**
 * Each replica records a transition's webhooks from its own copy of the enabled endpoints (no store command on
 * the claim path), so a replica whose copy did not list a new endpoint yet recorded transitions without it.
 * When this process's copy starts listing an endpoint (created or enabled again, here or on another replica),
 * this records the deliveries to it of every transition recorded since it was enabled that lacks one: once no
 * claim is in flight here (those that read the old copy are recorded then), again BACKFILL_SETTLE_MS after,
 * and again while some of those transitions were not applied or projected yet. Every replica does so for its
 * own swap, so the last replica to learn the endpoint covers everything recorded before it learned it; and a
 * replica starting covers the endpoints enabled within FIRST_LOAD_NEWS_MS before (its first load names them), for
 * the replicas that recorded transitions without them and stopped before their back-fill covered them. Safe
 * to race: deliveries are unique per (transition, endpoint), and a repeat is refused by the index.
 */
@Injectable()
export class PayoutBackfill implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PayoutBackfill.name);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly directory: WebhookEndpointDirectory,
    private readonly outbox: PayoutOutboxRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly claimPayout: ClaimPayoutService,
    private readonly relay: PayoutRelay,
    private readonly load: ClaimLoad,
    private readonly endpoints: WebhookEndpointRepository,
  ) {}

  onModuleInit(): void {
    // No relay in this process (PAYOUT_RELAY_INTERVAL_MS=0): another process's back-fill covers its transitions.
    if (this.config.payout.relayIntervalMs === 0) return;
    // Before the directory's first load (its onApplicationBootstrap), which names the endpoints enabled shortly
    // before this process started: the replicas that recorded transitions without them may have stopped since.
    this.directory.onEnabled((endpoint) => this.schedule(endpoint));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.running]);
  }

  private schedule(endpoint: WebhookEndpointRecord): void {
    const swappedAt = loadClock();
    // The first pass once this process has no claim in flight (at the latest after the settle time).
    this.after(0, async () => {
      await this.load.gap(swappedAt + BACKFILL_SETTLE_MS);
      await this.pass(endpoint);
    });
    this.after(BACKFILL_SETTLE_MS, () => this.passUntilReady(endpoint, UNREADY_PASSES));
  }

  private async passUntilReady(endpoint: WebhookEndpointRecord, left: number): Promise<void> {
    const unready = await this.pass(endpoint);
    if (unready > 0 && left > 1) this.after(BACKFILL_SETTLE_MS, () => this.passUntilReady(endpoint, left - 1));
  }

  private after(delay: number, work: () => Promise<unknown>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      const run: Promise<void> = work()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn(`Payout back-fill failed: ${String(error)}`))
        .finally(() => this.running.delete(run));
      this.running.add(run);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * One pass: the deliveries to `endpoint` of the transitions recorded since it was enabled that lack one.
   * Returns how many such transitions were not applied or projected yet (looked at again later).
   */
  async pass(endpoint: WebhookEndpointRecord): Promise<number> {
    const since = endpoint.enabledAt;
    // Where this enabling's window ends, by the endpoint as it is now (undefined: deleted, nothing more is
    // recorded for it). Disabled since (and perhaps enabled again: a later enabling has a back-fill of its
    // own), it covers only what came before its first disabling.
    const windowEnd = async (): Promise<number | undefined> => {
      const current = await this.endpoints.findById(endpoint.id);
      return current ? (firstDisablingSince(current, since)?.getTime() ?? Infinity) : undefined;
    };
    const until = await windowEnd();
    if (until === undefined) return 0;
    const wanted = (entry: OutboxEntry): boolean => {
      const type = webhookEventFor(entry.toStatus, entry.fromStatus);
      return (
        type !== undefined &&
        endpoint.events.includes(type) &&
        !entry.endpointIds.includes(endpoint.id) &&
        entry.at.getTime() < until
      );
    };
    let unready = 0;
    const entries: OutboxEntry[] = [];
    const known = new Map<string, PayoutClaim>();
    // Claims first: a claim's first decision (out of PROCESSING) comes after it, so it is among the decisions read next.
    const born: OutboxEntry[] = [];
    for await (const page of pages((after) => this.outbox.findClaimsSince(since, PAGE, after))) {
      for (const { entry, claim } of page) {
        known.set(claim.id, claim);
        born.push(entry);
      }
    }
    const decided = new Set<string>();
    // A claim with a decision out of PENDING and none out of PROCESSING was born PENDING, whatever it is now: one
    // recorded without a subscriber has no born status, and approved then revoked it reads as born GRANTED (its
    // approval's claim.granted was then sent twice, and its claim.pending never).
    const heldFirst = new Set<string>();
    const decisionPages = pages(async (after) => {
      await this.load.gap(loadClock() + BACKFILL_SETTLE_MS);
      return this.outbox.findDecisionsSince(since, PAGE, after);
    });
    for await (const page of decisionPages) {
      for (const decision of page) {
        if (decision.fromStatus === 'PROCESSING') decided.add(decision.claimId);
        if (decision.fromStatus === 'PENDING') heldFirst.add(decision.claimId);
        if (!wanted(decision)) continue;
        if (decision.applied) entries.push(decision);
        else unready += 1;
      }
    }
    // A claim that went through PROCESSING was not born decided: its moves are its decisions.
    for (const read of born) {
      if (decided.has(read.claimId)) continue;
      const entry: OutboxEntry = heldFirst.has(read.claimId) ? { ...read, toStatus: 'PENDING' } : read;
      if (known.get(entry.claimId)?.status === 'PROCESSING') unready += 1;
      else if (wanted(entry)) entries.push(entry);
    }
    if (entries.length === 0) return unready;
    const missing = [...new Set(entries.map((entry) => entry.claimId))].filter((id) => !known.has(id));
    for (const [id, claim] of await this.outbox.findClaims(missing)) known.set(id, claim);
    const built: NewDelivery[] = [];
    for (const entry of entries) {
      const deliveries = deliveriesOf({ ...entry, endpointIds: [endpoint.id] }, known.get(entry.claimId));
      if (deliveries === undefined) unready += 1;
      else built.push(...deliveries);
    }
    await this.load.gap(loadClock() + BACKFILL_SETTLE_MS);
    // Read again just before recording: a deletion or disabling made during the pass ends its window too.
    const end = await windowEnd();
    if (end === undefined) return unready;
    const fresh = await this.deliveries.insertMissing(built.filter((delivery) => delivery.createdAt.getTime() < end));
    if (fresh.length > 0) {
      this.logger.log(`Payout back-fill recorded ${fresh.length} webhook(s) to endpoint ${endpoint.id}`);
      await this.claimPayout.refresh(fresh.map((delivery) => delivery.claimId));
      this.relay.wake();
    }
    return unready;
  }
}

/** The pages of a time-ordered read, each read after the last of the one before, until one is not full. */
async function* pages<T extends { mark: PageMark }>(read: (after: PageMark | undefined) => Promise<T[]>): AsyncGenerator<T[]> {
  for (let mark: PageMark | undefined; ;) {
    const page = await read(mark);
    yield page;
    if (page.length < PAGE) return;
    mark = page.at(-1)?.mark;
  }
}
