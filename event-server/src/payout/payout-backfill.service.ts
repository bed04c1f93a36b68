import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { type EndpointNews, WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { type WebhookEndpointRecord, firstDisablingSince, receivesSince } from '../webhooks/webhook-endpoint.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { webhookEventFor } from '../webhooks/webhook-events.js';
import { ClaimLoad, loadClock } from './claim-load.js';
import { ClaimPayoutService } from './claim-payout.service.js';
import type { NewDelivery } from './delivery.js';
import { DeliveryRepository } from './delivery.repository.js';
import { PayoutBackfillMarkRepository } from './payout-backfill-mark.repository.js';
import type { OutboxEntry, PayoutClaim } from './payout-outbox.js';
import { type PageMark, PayoutOutboxRepository } from './payout-outbox.repository.js';
import { PayoutRelay, deliveriesOf } from './payout-relay.service.js';

/**
 * How long after this process's copy starts listing an endpoint a transition recorded from its old copy may
 * still be on its way to the store (a claim or a reviewer's decision that read the copy before the swap): the
 * back-fill's second pass runs then.
 */
export const BACKFILL_SETTLE_MS = 10_000;
/**
 * How long after an endpoint's enabling a replica may still record a transition without it: its copy reloads every
 * `WEBHOOK_ENDPOINT_CACHE_MS` (5 s), and a request reads the copy at most seconds before it records. A replica
 * starting covers, for the replicas stopped since, what they may have recorded without an endpoint: the transitions
 * of this span after its enabling that the back-fill's mark does not cover yet. Once the mark reaches its end, a start
 * reads nothing for that endpoint, however long the stack was down.
 */
export const BACKFILL_HORIZON_MS = 60 * 60_000;
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
 * own swap, so the last replica to learn the endpoint covers everything recorded before it learned it. Safe
 * to race: deliveries are unique per (transition, endpoint), and a repeat is refused by the index.
 *
 * A pass that completed (nothing left unapplied) leaves a mark in the store (PayoutBackfillMarkEntity): the enabling
 * is covered up to BACKFILL_SETTLE_MS before the pass began. A replica starting looks at every enabled endpoint's
 * mark (its first load names them all) and covers what the mark does not yet, within BACKFILL_HORIZON_MS of the
 * enabling (for an event type taken since, of when it was taken): the transitions of replicas that recorded them
 * without the endpoint and stopped before their own back-fill covered them, however long the stack stayed down. An
 * endpoint whose mark reached the horizon costs a start one read.
 */
@Injectable()
export class PayoutBackfill implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PayoutBackfill.name);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  /** This process recorded nothing before it started: its own swaps look no further back (see pass). */
  private readonly startedAt = Date.now();

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly directory: WebhookEndpointDirectory,
    private readonly outbox: PayoutOutboxRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly claimPayout: ClaimPayoutService,
    private readonly relay: PayoutRelay,
    private readonly load: ClaimLoad,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly marks: PayoutBackfillMarkRepository,
  ) {}

  onModuleInit(): void {
    // No relay in this process (PAYOUT_RELAY_INTERVAL_MS=0): another process's back-fill covers its transitions.
    if (this.config.payout.relayIntervalMs === 0) return;
    // Before the directory's first load (its onApplicationBootstrap), which names the endpoints enabled shortly
    // before this process started: the replicas that recorded transitions without them may have stopped since.
    this.directory.onEnabled((endpoint, news) => this.schedule(endpoint, news));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.running]);
  }

  private schedule(endpoint: WebhookEndpointRecord, news: EndpointNews): void {
    // The first load failed: this process's own window (what it recorded from its empty copy) is not all that is
    // owed. Replicas stopped since may have left transitions without the endpoint, as at any start: covered too
    // (before, they waited for the next start of a replica whose first load succeeded).
    if (news.afterFailedLoad) this.schedule(endpoint, { firstLoad: true });
    const swappedAt = loadClock();
    // The first pass once this process has no claim in flight (at the latest after the settle time).
    this.after(0, async () => {
      await this.load.gap(swappedAt + BACKFILL_SETTLE_MS);
      await this.pass(endpoint, news);
    });
    this.after(BACKFILL_SETTLE_MS, () => this.passUntilReady(endpoint, news, UNREADY_PASSES));
  }

  private async passUntilReady(endpoint: WebhookEndpointRecord, news: EndpointNews, left: number): Promise<void> {
    const unready = await this.pass(endpoint, news);
    if (unready > 0 && left > 1) this.after(BACKFILL_SETTLE_MS, () => this.passUntilReady(endpoint, news, left - 1));
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
   * One pass: the deliveries to `endpoint` of the transitions recorded since it was enabled that lack one, each of an
   * event type it takes and from when it took it (its enabling, or later: eventsSince). On this process's own swap
   * (`firstLoad` false), those since this copy lacked what it now receives (`news.since`) or this process started,
   * whichever is later: what this process may have recorded without it. On its first load, those after the
   * back-fill's mark (or the enabling) and within BACKFILL_HORIZON_MS of each type's start: what replicas stopped
   * since may have. A pass that completed with nothing left unapplied and read on from the mark moves the mark.
   * Returns how many such transitions were not applied or projected yet (looked at again later).
   */
  async pass(
    endpoint: WebhookEndpointRecord,
    { firstLoad, since: newsSince }: EndpointNews = { firstLoad: false },
  ): Promise<number> {
    const startedAt = Date.now();
    const enabledAt = endpoint.enabledAt.getTime();
    const marked = Math.max(enabledAt, (await this.marks.coveredUntil(endpoint.id, endpoint.enabledAt))?.getTime() ?? -Infinity);
    // On a first load, an endpoint whose mark reached the horizon of every type the copy just loaded takes costs this
    // one read: a type it took after that load is news to this copy, whose own pass reads from the type's start.
    const copied = endpoint.events.flatMap((type) => receivesSince(endpoint, type)?.getTime() ?? []);
    if (firstLoad && owedSpans(copied, marked).length === 0) return 0;
    // The endpoint as it is now (undefined: deleted, nothing more is recorded for it), read after this pass began:
    // an event type it takes later starts after the mark this pass may leave (below startedAt).
    const current = await this.endpoints.findById(endpoint.id);
    if (!current) return 0;
    // Since when this enabling takes each event type (it, or later for a type taken since: PATCH {events}), of the
    // types the endpoint still takes (one it has unsubscribed from since is owed nothing more). Enabled again since,
    // `endpoint` tells this enabling's (the later one has a back-fill of its own).
    const startOf = (read: WebhookEndpointRecord, type: string): number | undefined =>
      read.events.includes(type)
        ? receivesSince(read.enabledAt.getTime() === enabledAt ? read : endpoint, type)?.getTime()
        : undefined;
    const starts = current.events.flatMap((type) => startOf(current, type) ?? []);
    if (!firstLoad) {
      // The mark covers every type up to it, and each type from its start: one past its horizon reads on from
      // the first start still owed.
      const covered = Math.max(marked, Math.min(Infinity, ...starts.filter((start) => start + BACKFILL_HORIZON_MS > marked)));
      const from = Math.max(newsSince?.getTime() ?? enabledAt, this.startedAt - BACKFILL_SETTLE_MS);
      return this.window(endpoint, current, startOf, { firstLoad, from, to: Infinity, covered, startedAt });
    }
    // On a first load each type is owed BACKFILL_HORIZON_MS from its start: the spans after the mark are read one by
    // one (a type taken days after the enabling must not make a start read the days between), and the mark moves
    // past a span only once those before it left nothing unapplied.
    let unready = 0;
    for (const { from, to } of owedSpans(starts, marked)) {
      const covered = unready === 0 ? from : -Infinity;
      unready += await this.window(endpoint, current, startOf, { firstLoad, from, to, covered, startedAt });
    }
    return unready;
  }

  /**
   * The part of a pass that reads the transitions from `from` to `to`: records the deliveries owed among them, moves
   * the mark (see covered) and returns how many were not applied or projected yet.
   */
  private async window(
    endpoint: WebhookEndpointRecord,
    current: WebhookEndpointRecord,
    startOf: (read: WebhookEndpointRecord, type: string) => number | undefined,
    {
      firstLoad,
      from,
      to,
      covered,
      startedAt,
    }: { firstLoad: boolean; from: number; to: number; covered: number; startedAt: number },
  ): Promise<number> {
    const since = new Date(from);
    // What `read` (the endpoint read now) still owes: before its first disabling since this enabling (disabled and
    // perhaps enabled again since, this enabling's window ends there, though a later span starts after it), of the
    // types it takes, each from its start.
    const owing = (read: WebhookEndpointRecord): ((type: string, at: number) => boolean) => {
      const end = Math.min(firstDisablingSince(read, endpoint.enabledAt)?.getTime() ?? Infinity, to);
      return (type, at) => {
        const start = startOf(read, type);
        return start !== undefined && at >= start && at < end && (!firstLoad || at < start + BACKFILL_HORIZON_MS);
      };
    };
    const owes = owing(current);
    const wanted = (entry: OutboxEntry): boolean => {
      const type = webhookEventFor(entry.toStatus, entry.fromStatus);
      return type !== undefined && !entry.endpointIds.includes(endpoint.id) && owes(type, entry.at.getTime());
    };
    let unready = 0;
    const entries: OutboxEntry[] = [];
    const known = new Map<string, PayoutClaim>();
    // Claims first: a claim's first decision (out of PROCESSING) comes after it, so it is among the decisions read next.
    const born: OutboxEntry[] = [];
    const before = Number.isFinite(to) ? new Date(to) : undefined;
    for await (const page of pages((after) => this.outbox.findClaimsSince(since, PAGE, after, before))) {
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
      return this.outbox.findDecisionsSince(since, PAGE, after, before);
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
    if (entries.length === 0) return this.covered(endpoint, { from, covered, to, startedAt, unready });
    const missing = [...new Set(entries.map((entry) => entry.claimId))].filter((id) => !known.has(id));
    for (const [id, claim] of await this.outbox.findClaims(missing)) known.set(id, claim);
    const built: NewDelivery[] = [];
    for (const entry of entries) {
      const deliveries = deliveriesOf({ ...entry, endpointIds: [endpoint.id] }, known.get(entry.claimId));
      if (deliveries === undefined) unready += 1;
      else built.push(...deliveries);
    }
    await this.load.gap(loadClock() + BACKFILL_SETTLE_MS);
    // Read again just before recording: a deletion, disabling or unsubscription made during the pass counts too.
    const reread = await this.endpoints.findById(endpoint.id);
    if (!reread) return unready;
    const stillOwes = owing(reread);
    const fresh = await this.deliveries.insertMissing(
      built.filter((delivery) => stillOwes(delivery.type, delivery.createdAt.getTime())),
    );
    if (fresh.length > 0) {
      this.logger.log(`Payout back-fill recorded ${fresh.length} webhook(s) to endpoint ${endpoint.id}`);
      await this.claimPayout.refresh(fresh.map((delivery) => delivery.claimId));
      this.relay.wake();
    }
    return this.covered(endpoint, { from, covered, to, startedAt, unready });
  }

  /**
   * After a pass's deliveries are recorded: the mark moves to BACKFILL_SETTLE_MS before the pass began (a transition
   * stamped earlier was recorded by then: the window every back-fill pass relies on), at most to the pass's end, if
   * the pass read on from the mark (`from` at or before it) and left nothing unapplied. Returns `unready`.
   */
  private async covered(
    endpoint: WebhookEndpointRecord,
    { from, covered, to, startedAt, unready }: { from: number; covered: number; to: number; startedAt: number; unready: number },
  ): Promise<number> {
    const mark = Math.min(startedAt - BACKFILL_SETTLE_MS, to);
    if (unready === 0 && from <= covered && mark > covered) {
      await this.marks.advance(endpoint.id, endpoint.enabledAt, new Date(mark), new Date());
    }
    return unready;
  }
}

/**
 * What a first load owes after the mark `marked`: the BACKFILL_HORIZON_MS after each start, in time order, those that
 * overlap read as one.
 */
function owedSpans(starts: readonly number[], marked: number): { from: number; to: number }[] {
  const spans: { from: number; to: number }[] = [];
  for (const start of [...starts].sort((x, y) => x - y)) {
    const from = Math.max(start, marked);
    const to = start + BACKFILL_HORIZON_MS;
    if (from >= to) continue;
    const last = spans.at(-1);
    if (last && from <= last.to) last.to = Math.max(last.to, to);
    else spans.push({ from, to });
  }
  return spans;
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
