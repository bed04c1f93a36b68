import { Inject, Injectable } from '@nestjs/common';
import { AdmissionGate, answeringShed } from '@reward/server-kit/admission-gate';
import { clientKeyOf } from '@reward/server-kit/connection-limits';
import type { DomainError } from '@reward/server-kit/errors';
import { msUntilStartBy, startByOf } from '@reward/server-kit/start-by';
import type { FastifyRequest } from 'fastify';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { authBusy } from '../tokens/token-errors.js';
import { takePlace } from './held-places.js';

/** How late after its Retry-After a client turned away may come back and still count as waiting (s). */
const EXPECTED_BACK_SLACK_S = 5;
/** The clients turned away that are remembered (the latest): enough to know that someone is. */
const TURNED_AWAY_KEPT = 64;

/**
 * The request password work is done for: its start-by time (startByOf), past which it is not started, and its
 * client (clientKeyOf, the key of the throttle and of holdFor), whose turn in the gate's queue it waits for.
 */
export interface PasswordRequest {
  startBy?: number;
  client?: string;
}

/** The password request of an HTTP request: its client as the throttle's interceptors key it, and its start-by time. */
export function passwordRequestOf(request: FastifyRequest): PasswordRequest {
  return { client: clientKeyOf(request.ip), startBy: startByOf(request.headers) };
}

/**
 * The admission gate of password work (bcrypt: PasswordHasher), PASSWORD_HASH_MAX_IN_FLIGHT at once,
 * PASSWORD_HASH_MAX_QUEUED waiting, each at most PASSWORD_HASH_QUEUE_TIMEOUT_MS. A crowd signing in at an
 * event's launch costs about 50 ms of CPU per player (cost 10), and letting every request in at once only
 * makes every one slow, until the gateway answers 504 to most of them while the server goes on hashing for
 * clients that left (500 sign-ins at once on two cores: 53 answered 200, 447 got 504 after 10 s). Shed
 * requests are answered 503 AUTH_BUSY at once, with a Retry-After paced to when they can be served; nothing
 * was done for them. The throttle's interceptors ask first (shedOnArrival), before they record an attempt.
 *
 * The store work a sign-in or registration does before its password (the throttle's insert and counts) passes a
 * gate of its own, PASSWORD_HASH_STORE_MAX_IN_FLIGHT at once, queued and shed as the passwords are (runStoreWork),
 * and what is in it counts as queued ahead of the passwords when a request arrives. Unbounded, a crowd signing
 * in at once from 2,000 addresses had 850 commands waiting for a connection in the driver: the attempts' writes
 * and counts, the user lookups, and behind them the sessions of those whose password had matched, many written
 * after the gateway had answered 504 (13 of the first 32 sign-ins answered 200 took more than 10 s).
 *
 * The password gate's queue is fair by client (AdmissionGate's `fairBy`, the request's client): a freed place goes
 * to the waiting client with the fewest passwords being checked, then to the one served longest ago. First come,
 * first served, one address signing in correctly in a loop with 12 accounts, 5 at once, took nearly every place
 * freed, its many requests queued ahead of another client's one (a victim retrying at once signed in 4-6 times in
 * 10 s). The store gate stays first come, first served: a client's store work is bounded on its own (per client,
 * LoginThrottleService.begin), and it is short.
 * Neither gate starts a request past its start-by time (startByOf): it is shed instead, nothing done for it.
 */
@Injectable()
export class PasswordGate {
  private readonly gate: AdmissionGate;
  private readonly storeGate: AdmissionGate;
  private readonly perClient: number;
  private readonly maxInFlight: number;
  /** Places held in the password path, by client (holdFor); a client holding none has no entry. */
  private readonly heldByClient = new Map<string, number>();
  /**
   * Clients holding no place that were turned away on arrival, and until when they are expected back (their
   * Retry-After and a little more): they are waiting too, only outside (see holdFor). The latest few only.
   */
  private readonly turnedAway = new Map<string, number>();
  private readonly now: () => number;

  constructor(@Inject(AUTH_CONFIG) config: AuthConfig) {
    this.gate = new AdmissionGate(config.passwordGate);
    this.storeGate = new AdmissionGate({ ...config.passwordGate, maxInFlight: config.passwordGate.storeMaxInFlight });
    this.perClient = config.passwordGate.perClient;
    this.maxInFlight = config.passwordGate.maxInFlight;
    this.now = () => performance.now();
  }

  /** The password checks running and waiting in this process now (the gate's counts). */
  get load(): { inFlight: number; queued: number } {
    return this.gate.load;
  }

  /**
   * `work` (bcrypt) once the gate admits it, in its client's turn; 503 AUTH_BUSY (with when to come back) when it
   * sheds it, or when it could not start by its start-by time. Work for no client (the admin account at boot) takes
   * its turns as one client.
   */
  run<T>(work: () => Promise<T>, { startBy, client }: PasswordRequest = {}): Promise<T> {
    return answeringShed(this.gate.run(work, { startWithinMs: msUntilStartBy(startBy), fairBy: client }), authBusy);
  }

  /** The same for the store work a sign-in or registration does before its password (see the class comment). */
  runStoreWork<T>(work: () => Promise<T>, startBy?: number): Promise<T> {
    return answeringShed(this.storeGate.run(work, { startWithinMs: msUntilStartBy(startBy) }), authBusy);
  }

  /**
   * AUTH_BUSY for a sign-in or registration that has only just arrived from `client`, when the gates would shed it
   * now (those in the store work before their password counted as waiting for it): turned away before anything is
   * read or recorded for it. Undefined when it may go on (each gate decides again when it gets there). A client
   * turned away holding no place counts as waiting until it is expected back (holdFor).
   */
  shedOnArrival(client: string): DomainError | undefined {
    const { inFlight, queued } = this.storeGate.load;
    const shed = this.gate.shedOnArrival(inFlight + queued) ?? this.storeGate.shedOnArrival();
    if (!shed) return undefined;
    if (!this.heldByClient.has(client)) this.expectBack(client, shed.retryAfterSeconds);
    return authBusy(shed.retryAfterSeconds);
  }

  /**
   * One of a client's places in the password path (a sign-in or registration from its address, from arrival to
   * answer), released by the function returned; AUTH_BUSY (Retry-After 1) when the client already has
   * PASSWORD_HASH_PER_CLIENT of them while another client has one too (or was turned away on arrival and is not
   * back yet) and the gate is full. The queue's order is fair by client (see the class comment), but that does not
   * bound its room: without this, a few accounts signing in correctly in a loop from one address (successful logins
   * are not throttled) kept the queue full, and everyone else was shed or waited seconds (9 of 11 refused in an
   * attacker's pass, when the queue was first come, first served). A client alone (a PC café's crowd at a quiet
   * moment), or any client while the gate has room, may have any number: its share is taken only when someone else
   * needs the room.
   */
  holdFor(client: string): (() => void) | DomainError {
    const held = this.heldByClient.get(client) ?? 0;
    // Only while the gate is full (a request now would wait): an idle server serves everyone who comes.
    const full = this.gate.load.inFlight >= this.maxInFlight;
    if (held >= this.perClient && full && this.othersWaiting(client, held)) return authBusy(1);
    return takePlace(this.heldByClient, client);
  }

  /**
   * Another client holds a place, or was turned away on arrival and is not back yet. The latter too: one address
   * whose sign-ins filled the queue had every other client shed on arrival, before it held a place, so it never
   * counted as waiting and the address kept the queue (a victim refused 22 of 24 sign-ins in an attacker's pass).
   */
  private othersWaiting(client: string, held: number): boolean {
    if (this.heldByClient.size > (held > 0 ? 1 : 0)) return true;
    const now = this.now();
    for (const [other, until] of this.turnedAway) {
      if (until <= now) this.turnedAway.delete(other);
      else if (other !== client) return true;
    }
    return false;
  }

  /** Remembers `client`, turned away, until its Retry-After and a little more have passed (the latest few). */
  private expectBack(client: string, retryAfterSeconds: number): void {
    this.turnedAway.delete(client);
    this.turnedAway.set(client, this.now() + (retryAfterSeconds + EXPECTED_BACK_SLACK_S) * 1000);
    if (this.turnedAway.size > TURNED_AWAY_KEPT) this.turnedAway.delete(this.turnedAway.keys().next().value!);
  }
}
