import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { ActivityRepository } from './activity.repository.js';
import { type Login, LoginQuarterRepository } from './login-quarter.repository.js';

/**
 * How far before the last sweep's start the next one reads: a LOGIN's `createdAt` is taken by the server
 * that records it, before its insert, so one whose insert was slow, or whose server's clock is behind, may
 * be stored with a `createdAt` a little before a sweep that did not see it.
 */
export const SWEEP_OVERLAP_MS = 5 * 60_000;
const SWEEP_BATCH = 1000;

/**
 * Gives every recorded LOGIN its quarter-hour mark (LoginQuarterEntity) when the one recording it did not:
 * a crash between the activity's insert and the mark's, an import never retried after it; a replica of a
 * version without marks, still running during a rolling upgrade or after a rollback; every LOGIN of a
 * database that had no marks yet. It reads the LOGINs recorded since the last sweep (its record in
 * `migrations`, minus SWEEP_OVERLAP_MS; every LOGIN the first time) and inserts their marks, those that
 * exist refused by the unique index. Once when the server starts, before it takes requests, then every
 * `LOGIN_MARK_SWEEP_MS` (0 = only at start).
 */
@Injectable()
export class LoginMarkSweep implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LoginMarkSweep.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly activities: ActivityRepository,
    private readonly marks: LoginQuarterRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sweep();
    const every = this.config.activities.loginMarkSweepMs;
    if (every > 0) this.timer = setInterval(() => void this.sweepInBackground(), every).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep (joining the one under way, if any); the number of marks it had to make. */
  sweep(): Promise<number> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweepInBackground(): Promise<void> {
    try {
      await this.sweep();
    } catch (error) {
      this.logger.warn(`login mark sweep failed, tried again in ${this.config.activities.loginMarkSweepMs} ms: ${String(error)}`);
    }
  }

  private async sweepOnce(): Promise<number> {
    const startedAt = new Date();
    const upTo = await this.marks.sweptUpTo();
    const since = upTo && new Date(upTo.getTime() - SWEEP_OVERLAP_MS);
    let made = 0;
    let batch: Login[] = [];
    for await (const login of this.activities.loginsRecordedSince(since)) {
      batch.push(login);
      if (batch.length === SWEEP_BATCH) {
        made += await this.marks.mark(batch);
        batch = [];
      }
    }
    made += await this.marks.mark(batch);
    await this.marks.recordSweptUpTo(startedAt);
    if (made > 0) this.logger.log(`marked ${made} quarter hours of logins recorded without their mark`);
    return made;
  }
}
