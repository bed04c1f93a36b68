import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { type AttemptKey, ThrottleAttemptRepository } from './throttle-attempt.repository.js';
import { type ThrottleDecision, decideThrottle } from './throttle-window.js';

export type AttemptVerdict = { allowed: true; attemptId: string } | { allowed: false; retryAfterSeconds: number };

interface Limit {
  key: AttemptKey;
  max: number;
  windowMs: number;
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
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LoginThrottleService.name);
  private cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly attempts: ThrottleAttemptRepository,
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

  /** Records a login attempt as a failure-to-be and decides on the counts that include it. */
  async beginLogin(account: string, ip: string, now = new Date()): Promise<AttemptVerdict> {
    const { windowSeconds, failuresPerAccountAndAddress, failuresPerAccount, failuresPerAddress } = this.config.loginThrottle;
    const windowMs = windowSeconds * 1000;
    return this.begin({ scope: 'LOGIN', ip, account }, now, [
      { key: { scope: 'LOGIN', account, ip }, max: failuresPerAccountAndAddress, windowMs },
      { key: { scope: 'LOGIN', account }, max: failuresPerAccount, windowMs },
      // Settled failures only: a crowd logging in at once from one address must not count its own logins.
      // Parallel guesses can therefore pass this ceiling by their number, each still under the two above.
      { key: { scope: 'LOGIN', ip, settledOnly: true }, max: failuresPerAddress, windowMs },
    ]);
  }

  async beginRegistration(ip: string, now = new Date()): Promise<AttemptVerdict> {
    const { perAddress, windowSeconds } = this.config.registrationThrottle;
    return this.begin({ scope: 'REGISTER', ip }, now, [
      { key: { scope: 'REGISTER', ip }, max: perAddress, windowMs: windowSeconds * 1000 },
    ]);
  }

  /** The login failed: the attempt now counts everywhere, the address's ceiling included. */
  async failed(attemptId: string): Promise<void> {
    await this.attempts.settle(attemptId);
  }

  /** The attempt does not count after all (a successful login, or one that never tested a password). */
  async forget(attemptId: string): Promise<void> {
    await this.attempts.remove(attemptId);
  }

  async deleteExpired(now = new Date()): Promise<number> {
    try {
      return await this.attempts.deleteOlderThan(new Date(now.getTime() - this.longestWindowMs));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not delete old throttle attempts');
      return 0;
    }
  }

  private async begin(
    attempt: { scope: 'LOGIN' | 'REGISTER'; ip: string; account?: string },
    now: Date,
    limits: Limit[],
  ): Promise<AttemptVerdict> {
    const settled = attempt.scope === 'REGISTER';
    const attemptId = await this.attempts.record({ ...attempt, account: attempt.account ?? null, at: now, settled });
    const decisions: ThrottleDecision[] = await Promise.all(
      limits.map(async ({ key, max, windowMs }) => {
        const recent = await this.attempts.findRecentTimes(key, new Date(now.getTime() - windowMs), max + 1);
        // This attempt is not settled yet, so a settled-only count does not hold it: count it in, as the others do.
        return decideThrottle(key.settledOnly && !settled ? [now, ...recent] : recent, now, max, windowMs);
      }),
    );
    const blocked = decisions.filter((decision) => !decision.allowed);
    if (blocked.length === 0) return { allowed: true, attemptId };
    // A refused attempt tested nothing: it does not count (else hammering would keep an account locked).
    await this.attempts.remove(attemptId);
    return { allowed: false, retryAfterSeconds: Math.max(...blocked.map((decision) => decision.retryAfterSeconds)) };
  }
}
