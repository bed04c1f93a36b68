import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AdmissionGate, answeringShed } from '@reward/server-kit/admission-gate';
import { msUntilStartBy } from '@reward/server-kit/start-by';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { KnownAddressRepository } from './known-address.repository.js';
import { type AttemptKey, ThrottleAttemptRepository } from './throttle-attempt.repository.js';
import { takePlace } from './held-places.js';
import { PasswordGate } from './password-gate.js';
import { decideThrottle } from './throttle-window.js';
import { authBusy } from '../tokens/token-errors.js';

export type AttemptVerdict = { allowed: true; attemptId: string } | { allowed: false; retryAfterSeconds: number };

interface Limit {
  key: AttemptKey;
  max: number;
  windowMs: number;
  /** Asked only when this limit alone refuses the attempt: true lifts it for this attempt. */
  waived?: () => Promise<boolean>;
}

/**
 * Throttling in the spirit of OWASP's authentication guidance, shared by every replica (the database):
 * - logins: only failed attempts count, per account and address, per account (from anywhere: a distributed
 *   guess), and per address (a much higher ceiling: many players share a PC café's or a campus's address).
 *   A successful login never counts, and an account locked by failures leaves other accounts alone.
 * - registrations: every attempt counts per address, under a high ceiling.
 * An attempt is recorded BEFORE it is decided (and before the password is checked), so parallel attempts
 * cannot all slip under a limit; a login that succeeds, tests no password (bad input) or is refused here is
 * removed again, so only real failures remain.
 *
 * The per-account ceiling would let anyone who knows a username lock its owner out (20 wrong passwords from
 * a few addresses, again every window). So it does not refuse an attempt from a known address: one the account
 * signed in from, with its password, within LOGIN_KNOWN_ADDRESS_DAYS (the newest LOGIN_KNOWN_ADDRESSES_PER_ACCOUNT
 * of them). There the per-account-and-address limit still holds, so a guesser sharing that address is bounded
 * as before; everywhere else the per-account ceiling still stops a distributed guess. Only a successful
 * sign-in makes an address known, and the address is `request.ip`, which believes X-Forwarded-For only from
 * AUTH_TRUSTED_PROXIES. It costs a successful sign-in one command (the address's upsert, beside the attempt's
 * delete), and one or two more the first time at an address (trimming the account's list); the known-address
 * read happens only when the per-account ceiling alone would refuse.
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LoginThrottleService.name);
  private cleanupTimer: NodeJS.Timeout | undefined;
  /** This process's sign-in attempts not yet settled, per account and address (see holdLogin). */
  private readonly loginsInFlight = new Map<string, number>();
  /** Per client, the gate its attempts' store work goes through (see begin); dropped once idle. */
  private readonly clientGates = new Map<string, AdmissionGate>();

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly attempts: ThrottleAttemptRepository,
    private readonly knownAddresses: KnownAddressRepository,
    private readonly passwords: PasswordGate,
  ) {}

  private get longestWindowMs(): number {
    return Math.max(this.config.loginThrottle.windowSeconds, this.config.registrationThrottle.windowSeconds) * 1000;
  }

  onModuleInit(): void {
    // Every replica sweeps; deleting what another already deleted is harmless.
    const everyMs = Math.min(Math.max(this.longestWindowMs, 10_000), 300_000);
    this.cleanupTimer = setInterval(() => void this.deleteExpired(), everyMs);
    this.cleanupTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.cleanupTimer);
  }

  /**
   * A place for one sign-in attempt of an account from an address in this process, until it is settled (the
   * release given back), or undefined when as many as that pair may fail in a window are in flight already: the
   * attempt would then be refused whatever the store says, as each of those counts against it (beginLogin), so it
   * is refused without asking the store. Asked, every such attempt cost the store a write, up to four reads and a
   * delete: a few hundred sent at once at one account answered nothing for the gateway's whole timeout (504),
   * and held up every other sign-in with them.
   */
  holdLogin(account: string, ip: string): (() => void) | undefined {
    const key = `${account}\n${ip}`;
    const held = this.loginsInFlight.get(key) ?? 0;
    if (held >= this.config.loginThrottle.failuresPerAccountAndAddress) return undefined;
    return takePlace(this.loginsInFlight, key);
  }

  /**
   * Records a login attempt as a failure-to-be and decides on the counts that include it. `startBy`: the request's
   * start-by time (startByOf), past which its store work is not begun (503 AUTH_BUSY, nothing recorded).
   */
  async beginLogin(account: string, ip: string, now = new Date(), startBy?: number): Promise<AttemptVerdict> {
    const { windowSeconds, failuresPerAccountAndAddress, failuresPerAccount, failuresPerAddress } = this.config.loginThrottle;
    const windowMs = windowSeconds * 1000;
    // One read at most, whichever limits ask it.
    let known: Promise<boolean> | undefined;
    const atKnownAddress = (): Promise<boolean> => (known ??= this.isKnownAddress(account, ip, now));
    return this.begin({ scope: 'LOGIN', ip, account }, now, startBy, [
      { key: { scope: 'LOGIN', account, ip }, max: failuresPerAccountAndAddress, windowMs },
      // The owner at an address they signed in from is not locked out by guesses made elsewhere.
      { key: { scope: 'LOGIN', account }, max: failuresPerAccount, windowMs, waived: atKnownAddress },
      // Settled failures only: a crowd logging in at once from one address must not count its own logins.
      // Parallel guesses can therefore pass this ceiling by their number, each still under the two above.
      // Nor is the owner at a known address locked out by failures made there for other accounts (anyone sharing
      // the address, guessing at made-up emails): guesses at that account there stay bounded by the limit above.
      { key: { scope: 'LOGIN', ip, settledOnly: true }, max: failuresPerAddress, windowMs, waived: atKnownAddress },
    ]);
  }

  async beginRegistration(ip: string, now = new Date(), startBy?: number): Promise<AttemptVerdict> {
    const { perAddress, windowSeconds } = this.config.registrationThrottle;
    return this.begin({ scope: 'REGISTER', ip }, now, startBy, [
      { key: { scope: 'REGISTER', ip }, max: perAddress, windowMs: windowSeconds * 1000 },
    ]);
  }

  /** The login failed: the attempt now counts everywhere, the address's ceiling included. */
  async failed(attemptId: string): Promise<void> {
    await this.attempts.settle(attemptId);
  }

  /** The attempt does not count after all (a login that never tested a password). */
  async forget(attemptId: string): Promise<void> {
    await this.attempts.remove(attemptId);
  }

  /** The password was right: the attempt does not count, and the account now knows this address. */
  async succeeded(attemptId: string, account: string, ip: string, now = new Date()): Promise<void> {
    await Promise.all([this.attempts.remove(attemptId), this.rememberAddress(account, ip, now)]);
  }

  /** Attempts that left the window, and known addresses not signed in from for LOGIN_KNOWN_ADDRESS_DAYS. */
  async deleteExpired(now = new Date()): Promise<number> {
    const sweeps = await Promise.allSettled([
      this.attempts.deleteOlderThan(new Date(now.getTime() - this.longestWindowMs)),
      this.knownAddresses.deleteOlderThan(this.knownSince(now)),
    ]);
    let deleted = 0;
    for (const sweep of sweeps) {
      if (sweep.status === 'fulfilled') deleted += sweep.value;
      else this.logger.warn({ err: sweep.reason }, 'could not delete old throttle attempts or known addresses');
    }
    return deleted;
  }

  private knownSince(now: Date): Date {
    return new Date(now.getTime() - this.config.loginThrottle.knownAddressDays * 86_400_000);
  }

  private async isKnownAddress(account: string, ip: string, now: Date): Promise<boolean> {
    if (this.config.loginThrottle.knownAddressesPerAccount === 0) return false;
    return this.knownAddresses.isKnown(account, ip, this.knownSince(now));
  }

  /**
   * Not remembering an address only leaves its owner under the per-account ceiling, as before this existed;
   * the tokens are issued by then, so a store hiccup here is logged, not turned into a failed sign-in.
   */
  private async rememberAddress(account: string, ip: string, now: Date): Promise<void> {
    const keep = this.config.loginThrottle.knownAddressesPerAccount;
    if (keep === 0) return;
    try {
      const inserted = await this.knownAddresses.touch(account, ip, now);
      if (inserted) await this.knownAddresses.keepNewest(account, keep);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not remember the address of a successful sign-in');
    }
  }

  /**
   * The attempt's store work (a write, the counts, a delete when refused), a client's attempts at most
   * PASSWORD_HASH_PER_CLIENT at a time, the others waiting their turn (as long as the password gate's queue lets
   * a sign-in wait), then 503 AUTH_BUSY: it was unbounded, and a refused attempt never reaches the password gate, so
   * one client's few hundred sign-ins at once, all refused (its address over its failures, at any accounts), kept
   * the store busy past the gateway's timeout (504 for them, and for everyone else's sign-ins meanwhile). Inside
   * it, every client's attempts pass the password gate's store gate together (PasswordGate.runStoreWork): a crowd
   * from many addresses is one attempt per client, which the client's gate alone does not bound.
   */
  private async begin(
    attempt: { scope: 'LOGIN' | 'REGISTER'; ip: string; account?: string },
    now: Date,
    startBy: number | undefined,
    limits: Limit[],
  ): Promise<AttemptVerdict> {
    const { perClient, maxQueued, queueTimeoutMs, maxRetryAfterSeconds } = this.config.passwordGate;
    let gate = this.clientGates.get(attempt.ip);
    if (gate === undefined) {
      gate = new AdmissionGate({ maxInFlight: perClient, maxQueued, queueTimeoutMs, maxRetryAfterSeconds });
      this.clientGates.set(attempt.ip, gate);
    }
    try {
      return await answeringShed(
        gate.run(() => this.passwords.runStoreWork(() => this.decide(attempt, now, limits), startBy), {
          startWithinMs: msUntilStartBy(startBy),
        }),
        authBusy,
      );
    } finally {
      const { inFlight, queued } = gate.load;
      if (inFlight === 0 && queued === 0 && this.clientGates.get(attempt.ip) === gate) this.clientGates.delete(attempt.ip);
    }
  }

  private async decide(
    attempt: { scope: 'LOGIN' | 'REGISTER'; ip: string; account?: string },
    now: Date,
    limits: Limit[],
  ): Promise<AttemptVerdict> {
    const settled = attempt.scope === 'REGISTER';
    const attemptId = await this.attempts.record({ ...attempt, account: attempt.account ?? null, at: now, settled });
    const refusals = (
      await Promise.all(
        limits.map(async ({ key, max, windowMs, waived }) => {
          const recent = await this.attempts.findRecentTimes(key, new Date(now.getTime() - windowMs), max + 1);
          // This attempt is not settled yet, so a settled-only count does not hold it: count it in, as the others do.
          const decision = decideThrottle(key.settledOnly && !settled ? [now, ...recent] : recent, now, max, windowMs);
          return decision.allowed ? undefined : { retryAfterSeconds: decision.retryAfterSeconds, waived };
        }),
      )
    ).filter((refusal) => refusal !== undefined);
    // A waiver is read only when waivable limits alone stand between the attempt and a yes.
    const waivers = refusals.map((refusal) => refusal.waived);
    const waived =
      refusals.length > 0 &&
      waivers.every((waiver) => waiver !== undefined) &&
      (await Promise.all(waivers.map((waiver) => waiver!()))).every(Boolean);
    if (refusals.length === 0 || waived) return { allowed: true, attemptId };
    // A refused attempt tested nothing: it does not count (else hammering would keep an account locked).
    await this.attempts.remove(attemptId);
    return { allowed: false, retryAfterSeconds: Math.max(...refusals.map((refusal) => refusal.retryAfterSeconds)) };
  }
}
