import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@reward/server-kit/errors';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import type { RewardRecord } from '../rewards/reward.js';
import { RewardRepository } from '../rewards/reward.repository.js';
import { EventErrorCode } from './event.errors.js';
import type { EventRecord } from './event.js';
import { EventRepository } from './event.repository.js';

/** An event as the claim and progress paths need it: the event, its rewards, its limited rewards by id. */
export interface CatalogEntry {
  event: EventRecord;
  rewards: RewardRecord[];
  /** The limited rewards sorted by id: the order in which every claim takes their units. */
  limited: RewardRecord[];
}

interface Cached {
  entry: Promise<CatalogEntry | undefined>;
  expiresAt: number;
}

/** Entries kept at most; the oldest is dropped first. */
const MAX_ENTRIES = 1_000;

/**
 * Read-mostly data of the hot paths (an event and its rewards), kept in this process for
 * `CLAIM_CATALOG_TTL_MS` (2 s by default). Writes made by this process drop the entry at once; a write made
 * by another replica is seen within the TTL. Nothing correct depends on it: a status or period change
 * reaches claims at most one TTL late, and the unique inserts (slot, units, decisions) still decide every
 * claim. Concurrent misses for one event share one read.
 */
@Injectable()
export class EventCatalog {
  private readonly entries = new Map<string, Cached>();

  constructor(
    private readonly events: EventRepository,
    private readonly rewards: RewardRepository,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {}

  /** The event with its rewards, or a 404 EVENT_NOT_FOUND. */
  async require(eventId: string): Promise<CatalogEntry> {
    return found(eventId, await this.get(eventId));
  }

  /**
   * As `require`, with the read the catalog makes for it (the event not held, or held too long) made through
   * `reading`: a player's view counts among their reads only then (PlayerReads). Held or not is judged once, here:
   * judged apart from the read, an entry that expired in between was read uncounted. A read that finds no event is
   * dropped once it is back, so a made-up id is never held for long.
   */
  requireReading(eventId: string, reading: (read: () => Promise<CatalogEntry>) => Promise<CatalogEntry>): Promise<CatalogEntry> {
    const held = this.held(eventId, Date.now());
    if (held) return held.then((entry) => found(eventId, entry));
    return reading(() => this.require(eventId));
  }

  /** Called after this process changed an event or its rewards. */
  invalidate(eventId: string): void {
    this.entries.delete(eventId);
  }

  /** The entry held for the event (its read may still be in flight), unless there is none or it expired. */
  private held(eventId: string, now: number): Promise<CatalogEntry | undefined> | undefined {
    const cached = this.entries.get(eventId);
    return cached && cached.expiresAt > now ? cached.entry : undefined;
  }

  private get(eventId: string): Promise<CatalogEntry | undefined> {
    const now = Date.now();
    const held = this.held(eventId, now);
    if (held) return held;
    const entry = this.load(eventId);
    const ttl = this.config.claims.catalogTtlMs;
    if (ttl > 0) {
      this.entries.delete(eventId);
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      const fresh: Cached = { entry, expiresAt: now + ttl };
      this.entries.set(eventId, fresh);
      // A failed or empty read is not kept: the next request reads again.
      entry.then(
        (found) => {
          if (!found && this.entries.get(eventId) === fresh) this.entries.delete(eventId);
        },
        () => {
          if (this.entries.get(eventId) === fresh) this.entries.delete(eventId);
        },
      );
    }
    return entry;
  }

  private async load(eventId: string): Promise<CatalogEntry | undefined> {
    // The rewards first, the event after them: a reward change names its author among the event's editors
    // before it writes the reward (RewardsService), so rewards read with a change come with an event read
    // after that author was named (read at once, the two could pair a new reward with an older event).
    const rewards = await this.rewards.findByEvent(eventId);
    const event = await this.events.findById(eventId);
    if (!event) return undefined;
    const limited = rewards.filter((reward) => reward.stock !== undefined).sort((a, b) => a.id.localeCompare(b.id));
    return { event, rewards, limited };
  }
}

/** The entry, or a 404 EVENT_NOT_FOUND when there is none. */
function found(eventId: string, entry: CatalogEntry | undefined): CatalogEntry {
  if (!entry) throw new DomainError(404, EventErrorCode.EVENT_NOT_FOUND, `Event ${eventId} does not exist`);
  return entry;
}
