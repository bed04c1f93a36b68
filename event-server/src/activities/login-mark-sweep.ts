import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { ActivityRepository } from './activity.repository.js';
import { type Login, LoginQuarterRepository } from './login-quarter.repository.js';

/**
 * How far before the last sweep's record the next one reads. A LOGIN's `createdAt` is taken by the server
 * that records it, before its insert, so one whose insert was slow, or whose server's clock is behind the
 * sweeper's, may be stored with a `createdAt` before a sweep that did not see it. The record is itself a
 * `createdAt` read (never the sweeper's own clock, see sweepOnce), so clocks that disagree by less than
 * this lose nothing. On MongoDB it is an index range; FerretDB reads every LOGIN anyway.
 */
export const SWEEP_OVERLAP_MS = 60 * 60_000;
const SWEEP_BATCH = 1000;

/**
 * Gives every recorded LOGIN its quarter-hour mark (LoginQuarterEntity) when the one recording it did not:
 * a crash between the activity's insert and the mark's, an import never retried after it; a replica of a
 * version without marks, still running during a rolling upgrade or after a rollback; every LOGIN of a
 * database that had no marks yet. It reads the LOGINs recorded since the last sweep (its record in
 * `migrations`, minus SWEEP_OVERLAP_MS; every LOGIN the first time) and inserts their marks, those that
 * exist refused by the unique index. When the server starts, and then every `LOGIN_MARK_SWEEP_MS`
 * (0 = only at start). The first sweep of a database (no record yet: every LOGIN unmarked) runs before the
 * server takes requests; any later one in the background.
 */
@Injectable()
export class LoginMarkSweep implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LoginMarkSweep.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopping = false;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly activities: ActivityRepository,
    private readonly marks: LoginQuarterRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.marks.sweptUpTo()) === undefined) await this.sweep();
    else void this.sweepInBackground();
    const every = this.config.activities.loginMarkSweepMs;
    if (every > 0) this.timer = setInterval(() => void this.sweepInBackground(), every).unref();
  }

  /** Stops the sweep under way between two batches (it records nothing: the next one reads its part again). */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    await this.running?.catch(() => undefined);
  }

  /** One sweep (joining the one under way, if any); the number of marks it had to make. */
  sweep(): Promise<number> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** A sweep of the timer's (none while one is under way), its failure logged once. */
  private async sweepInBackground(): Promise<void> {
    if (this.running) return;
    try {
      await this.sweep();
    } catch (error) {
      if (this.stopping) return;
      const every = this.config.activities.loginMarkSweepMs;
      this.logger.warn(
        `login mark sweep failed, tried again ${every > 0 ? `in ${every} ms` : 'at the next start'}: ${String(error)}`,
      );
    }
  }

  private async sweepOnce(): Promise<number> {
    const startedAt = new Date();
    const upTo = await this.marks.sweptUpTo();
    const since = upTo && new Date(upTo.getTime() - SWEEP_OVERLAP_MS);
    // The next sweep starts from the newest `createdAt` read, by the recording servers' clocks, not this
    // one's. A sweep that read nothing leaves the record as it was; the first one records its start.
    let newest: Date | undefined;
    let made = 0;
    let batch: Login[] = [];
    for await (const login of this.activities.loginsRecordedSince(since)) {
      if (this.stopping) return made;
      batch.push(login);
      if (newest === undefined || login.createdAt > newest) newest = login.createdAt;
      if (batch.length === SWEEP_BATCH) {
        made += await this.marks.mark(batch);
        batch = [];
      }
    }
    made += await this.marks.mark(batch);
    if (this.stopping) return made;
    const record = newest ?? upTo ?? startedAt;
    if (record !== upTo) await this.marks.recordSweptUpTo(record);
    if (made > 0) this.logger.log(`marked ${made} quarter hours of logins recorded without their mark`);
    return made;
  }
}
