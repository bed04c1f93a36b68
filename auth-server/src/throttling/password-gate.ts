import { Inject, Injectable } from '@nestjs/common';
import { AdmissionGate, answeringShed } from '@reward/server-kit/admission-gate';
import type { DomainError } from '@reward/server-kit/errors';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { authBusy } from '../tokens/token-errors.js';
import { takePlace } from './held-places.js';

/**
 * The admission gate of password work (bcrypt: PasswordHasher), PASSWORD_HASH_MAX_IN_FLIGHT at once,
 * PASSWORD_HASH_MAX_QUEUED waiting, each at most PASSWORD_HASH_QUEUE_TIMEOUT_MS. A crowd signing in at an
 * event's launch costs about 50 ms of CPU per player (cost 10), and letting every request in at once only
 * makes every one slow, until the gateway answers 504 to most of them while the server goes on hashing for
 * clients that left (500 sign-ins at once on two cores: 53 answered 200, 447 got 504 after 10 s). Shed
 * requests are answered 503 AUTH_BUSY at once, with a Retry-After paced to when they can be served; nothing
 * was done for them. The throttle's interceptors ask first (shedOnArrival), before they record an attempt.
 */
@Injectable()
export class PasswordGate {
  private readonly gate: AdmissionGate;
  private readonly perClient: number;
  private readonly maxInFlight: number;
  /** Places held in the password path, by client (holdFor); a client holding none has no entry. */
  private readonly heldByClient = new Map<string, number>();

  constructor(@Inject(AUTH_CONFIG) config: AuthConfig) {
    this.gate = new AdmissionGate(config.passwordGate);
    this.perClient = config.passwordGate.perClient;
    this.maxInFlight = config.passwordGate.maxInFlight;
  }

  /** `work` once the gate admits it; 503 AUTH_BUSY (with when to come back) when it sheds it. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return answeringShed(this.gate.run(work), authBusy);
  }

  /**
   * AUTH_BUSY for a sign-in or registration that has only just arrived, when the gate would shed it now:
   * turned away before anything is read or recorded for it. Undefined when it may go on (the gate decides
   * again when its password is checked).
   */
  shedOnArrival(): DomainError | undefined {
    const shed = this.gate.shedOnArrival();
    return shed && authBusy(shed.retryAfterSeconds);
  }

  /**
   * One of a client's places in the password path (a sign-in or registration from its address, from arrival to
   * answer), released by the function returned; AUTH_BUSY (Retry-After 1) when the client already has
   * PASSWORD_HASH_PER_CLIENT of them while another client has one too and the gate is full. The gate is first
   * come, first served:
   * without this, a few accounts signing in correctly in a loop from one address (successful logins are not
   * throttled) kept its queue full, and everyone else was shed or waited seconds (9 of 11 refused in an
   * attacker's pass). A client alone (a PC café's crowd at a quiet moment), or any client while the gate has
   * room, may have any number: its share is taken only when someone else needs the room.
   */
  holdFor(client: string): (() => void) | DomainError {
    const held = this.heldByClient.get(client) ?? 0;
    const othersWaiting = this.heldByClient.size > (held > 0 ? 1 : 0);
    // Only while the gate is full (a request now would wait): an idle server serves everyone who comes.
    const full = this.gate.load.inFlight >= this.maxInFlight;
    if (held >= this.perClient && othersWaiting && full) return authBusy(1);
    return takePlace(this.heldByClient, client);
  }
}
