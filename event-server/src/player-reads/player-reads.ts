import { Inject, Injectable } from '@nestjs/common';
import { tooManyRequests } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { claimsStaffRole } from '../staff-access/staff-access.rules.js';

/** What a route that counts a player's reads says of it (OpenAPI). */
export const PLAYER_READS =
  'A player with PLAYER_READ_MAX_IN_FLIGHT (4) reads of lists, claims or events not in the cache running on the ' +
  'server gets 429 TOO_MANY_REQUESTS with `Retry-After`, nothing read; staff are not counted.';

/** As PLAYER_READS, for a player's view of an event, which counts only when the server must read the event. */
export const PLAYER_VIEW_READS =
  "A player's view counts among their reads only when the server must read the event (not held in its cache for " +
  `CLAIM_CATALOG_TTL_MS): ${PLAYER_READS}`;

/** Retry-After (s) of a player's read refused for the reads of theirs already running. */
const PLAYER_READ_RETRY_AFTER_SECONDS = 1;

/**
 * A player's reads that go to the store (a list, a claim, an event the catalog does not hold), at most
 * PLAYER_READ_MAX_IN_FLIGHT at once per player in this process; more are answered 429 TOO_MANY_REQUESTS with
 * Retry-After before anything is read. Nothing else bounded them: one player sending a hundred `GET /claims/me`,
 * `GET /events` or views of made-up event ids at once (the gateway lets one address hold 1,000 connections) kept
 * the store busy with two commands each, and 300 other players' claims, answered within 1.5 s alone, took 11 to
 * 59 s (past the gateway's 504). Staff's reads are not counted: few, and bounded in store time (LIST_READ_MAX_MS).
 */
@Injectable()
export class PlayerReads {
  private readonly maxInFlight: number;
  /** The reads running now per player (only players with one are kept). */
  private readonly running = new Map<string, number>();

  constructor(@Inject(EVENT_CONFIG) config: EventConfig) {
    this.maxInFlight = config.playerReads.maxInFlight;
  }

  /** `read` for `caller`, or a 429 when as many reads of theirs are running already (staff: `read`, uncounted). */
  async run<T>(caller: AuthenticatedUser, read: () => Promise<T>): Promise<T> {
    const done = this.start(caller);
    try {
      return await read();
    } finally {
      done();
    }
  }

  /**
   * `read` for `caller` as `run` makes it, shared with every caller who asks for the same `key` of `running` while
   * it runs (a read that is the same for everyone, a page of events): one read however many players ask at once,
   * and one who joins a read someone else started uses none of their reads.
   */
  shared<T>(running: Map<string, Promise<T>>, key: string, caller: AuthenticatedUser, read: () => Promise<T>): Promise<T> {
    const joined = running.get(key);
    if (joined) return joined;
    // Refused here (429) before the read is kept, so that no one joins a refusal.
    const done = this.start(caller);
    const reading = Promise.resolve()
      .then(read)
      .finally(() => {
        done();
        if (running.get(key) === reading) running.delete(key);
      });
    running.set(key, reading);
    return reading;
  }

  /** Counts a read of `caller`'s as running (none for staff), or throws the 429; the function given back ends it. */
  private start(caller: AuthenticatedUser): () => void {
    if (claimsStaffRole(caller.roles)) return () => {};
    const mine = this.running.get(caller.id) ?? 0;
    if (mine >= this.maxInFlight) {
      throw tooManyRequests('reads at once by this player', PLAYER_READ_RETRY_AFTER_SECONDS);
    }
    this.running.set(caller.id, mine + 1);
    return () => {
      const left = (this.running.get(caller.id) ?? 1) - 1;
      if (left > 0) this.running.set(caller.id, left);
      else this.running.delete(caller.id);
    };
  }
}
