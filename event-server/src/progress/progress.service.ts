import { Inject, Injectable } from '@nestjs/common';
import { AdmissionGate, answeringShed } from '@reward/server-kit/admission-gate';
import { CommonErrorCode, DomainError, tooManyRequests } from '@reward/server-kit/errors';
import { type AuthenticatedUser, Role, hasRequiredRole } from '@reward/server-kit/roles';
import { ActivityRepository } from '../activities/activity.repository.js';
import { type LeafProgress, evaluateCondition, factPlanOf } from '../conditions/condition.evaluator.js';
import type { EventRecord } from '../events/event.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { EventCatalog } from '../events/event-catalog.js';

const progressBusy = (retryAfterSeconds: number): DomainError =>
  new DomainError(503, 'PROGRESS_BUSY', 'Too many progress reads are being made; nothing was read, retry after Retry-After', {
    retryAfterSeconds,
  });

export interface ProgressView {
  eventId: string;
  userId: string;
  eligible: boolean;
  conditions: LeafProgress[];
}

@Injectable()
export class ProgressService {
  /**
   * The progress reads this process makes at once (PROGRESS_MAX_IN_FLIGHT, a bounded queue behind them): a
   * player's progress may read up to a condition's count of activities, and a flood of them (a launch crowd
   * polling) held every other request's store time until the gateway answered 504 and /health went 503 (5,000
   * at once in an SRE's pass: 3,513 answered 504 after 14-38 s). The rest are answered 503 PROGRESS_BUSY with
   * Retry-After at once, having read nothing. The claim path reads progress outside this gate (it has its own).
   */
  private readonly gate: AdmissionGate;
  /** PROGRESS_PLAYER_MAX_IN_FLIGHT: one player's progress reads (of different events) this process makes at once. */
  private readonly playerMaxInFlight: number;

  constructor(
    private readonly catalog: EventCatalog,
    private readonly activities: ActivityRepository,
    @Inject(EVENT_CONFIG) config: EventConfig,
  ) {
    this.gate = new AdmissionGate({ ...config.progress, maxRetryAfterSeconds: 10 });
    this.playerMaxInFlight = config.progress.playerMaxInFlight;
  }

  /** The caller's progress, or (OPERATOR/ADMIN only) another user's: a dry run of the claim check. */
  async forCaller(eventId: string, caller: AuthenticatedUser, userId?: string): Promise<ProgressView> {
    const subject = userId?.toLowerCase() ?? caller.id;
    if (subject !== caller.id && !hasRequiredRole(caller.roles, [Role.OPERATOR])) {
      throw new DomainError(403, CommonErrorCode.FORBIDDEN, "Only OPERATOR or ADMIN may see another user's progress");
    }
    // One read at a time per player and event: requests that come while it runs share its answer. A condition
    // may ask for up to 1,000,000 of an activity, and a player who has that many costs the store up to that
    // many documents per read (FerretDB decodes each match of a count): ten taps at once made ten such reads,
    // held every other request to the store for their whole time, and the gateway took the server out of
    // rotation. A player polling (or a client retrying) now costs one read however many requests are in flight.
    const key = `${eventId}:${subject}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    // And at most `playerMaxInFlight` reads started by one caller at once (of different events), before anything
    // is read: one player polling 24 events at once filled the gate that every player shares, and another
    // player's progress was answered PROGRESS_BUSY on 10 of 15 calls. Counted against the caller: an operator's
    // dry runs of a player's progress use none of that player's.
    const mine = this.callerReads.get(caller.id) ?? 0;
    if (mine >= this.playerMaxInFlight) throw tooManyRequests('progress checks at once by this caller', 1);
    this.callerReads.set(caller.id, mine + 1);
    const read = this.read(eventId, subject).finally(() => {
      this.inFlight.delete(key);
      const left = (this.callerReads.get(caller.id) ?? 1) - 1;
      if (left > 0) this.callerReads.set(caller.id, left);
      else this.callerReads.delete(caller.id);
    });
    this.inFlight.set(key, read);
    return read;
  }

  private async read(eventId: string, subject: string): Promise<ProgressView> {
    const { event } = await this.catalog.require(eventId);
    return answeringShed(
      this.gate.run(() => this.evaluate(event, subject)),
      progressBusy,
    );
  }

  /** The progress reads running now, by event and player (see forCaller). */
  private readonly inFlight = new Map<string, Promise<ProgressView>>();
  /** How many of those each caller started (only callers with one are kept). */
  private readonly callerReads = new Map<string, number>();

  /** Evaluates an event's condition for a user from the recorded activities (also used by claims). */
  async evaluate(event: EventRecord, userId: string): Promise<ProgressView> {
    const { facts, counts } = await this.activities.findFacts(userId, factPlanOf(event.condition), event);
    const { eligible, conditions } = evaluateCondition(event.condition, event, facts, counts);
    return { eventId: event.id, userId, eligible, conditions };
  }
}
