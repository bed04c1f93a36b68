import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { LoginAttemptRepository } from './login-attempt.repository.js';
import { type ThrottleDecision, decideThrottle } from './throttle-window.js';

/** Login attempts per client IP, counted over a sliding window shared by every replica (the database). */
@Injectable()
export class LoginThrottleService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LoginThrottleService.name);
  private cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly attempts: LoginAttemptRepository,
  ) {}

  private get windowMs(): number {
    return this.config.loginThrottle.windowSeconds * 1000;
  }

  onModuleInit(): void {
    // Every replica sweeps; deleting what another already deleted is harmless.
    const everyMs = Math.min(Math.max(this.windowMs, 10_000), 300_000);
    this.cleanupTimer = setInterval(() => void this.deleteExpired(), everyMs);
    this.cleanupTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.cleanupTimer);
  }

  /** Records the attempt, then decides on the count that includes it. */
  async registerAttempt(ip: string, now = new Date()): Promise<ThrottleDecision> {
    const { limit } = this.config.loginThrottle;
    await this.attempts.record(ip, now);
    const recent = await this.attempts.findRecentTimes(ip, new Date(now.getTime() - this.windowMs), limit + 1);
    return decideThrottle(recent, now, limit, this.windowMs);
  }

  async deleteExpired(now = new Date()): Promise<number> {
    try {
      return await this.attempts.deleteOlderThan(new Date(now.getTime() - this.windowMs));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not delete old login attempts');
      return 0;
    }
  }
}
