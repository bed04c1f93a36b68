import { Controller, Get, Inject, Module, ServiceUnavailableException } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import {
  HealthCheck,
  HealthCheckService,
  type HealthCheckResult,
  HealthIndicatorService,
  TerminusModule,
} from '@nestjs/terminus';
import type { Connection } from 'mongoose';
import { Public } from './auth.guards.js';
import { CommonErrorCode, DomainError } from './errors.js';

/** How long a health check waits for the store's answer to a ping. */
export const STORE_PING_TIMEOUT_MS = 1_000;
/**
 * How long after the store last answered a ping a slow ping (no answer yet, no error either) still counts as up:
 * a store busy with an event's launch answers in 1-2 s and is serving every request, and a 503 then would take
 * the server out of its load balancer's rotation (and the gateway's /health with it) when it is needed most. A
 * store that refuses or errs is down at once; one that stays silent, after this.
 */
export const STORE_SLOW_GRACE_MS = 5_000;

type PingOutcome = 'answered' | 'failed' | 'slow';

@Controller('health')
export class DatabaseHealthController {
  /**
   * When the last ping the store answered was sent (performance.now()); one answered after its check gave up
   * counts too.
   */
  private answeredAt = Number.NEGATIVE_INFINITY;
  /** The ping under way: checks arriving meanwhile wait for it rather than pile more onto a slow store. */
  private pinging: Promise<PingOutcome> | undefined;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(getConnectionToken()) private readonly connection: Connection,
  ) {}

  /**
   * Ready when the server's database answers a ping within a second, or is only slow (no answer yet, no error)
   * and answered one within the last STORE_SLOW_GRACE_MS; 503 otherwise.
   */
  @Public()
  @Get()
  @HealthCheck()
  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database()]);
    } catch (error) {
      // Terminus reports "not ready" as a Nest 503, which the exception filter would log as a failure of the
      // server's own (an error line with a stack, for every probe while it lasts): it is an answer.
      if (error instanceof ServiceUnavailableException) {
        throw new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, 'The database is not ready', {
          ...(error.getResponse() as Record<string, unknown>),
        });
      }
      throw error;
    }
  }

  private async database() {
    const indicator = this.indicators.check('database');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.ping(),
      new Promise<PingOutcome>((resolve) => (timer = setTimeout(() => resolve('slow'), STORE_PING_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    if (outcome === 'answered') return indicator.up();
    if (outcome === 'slow' && performance.now() - this.answeredAt <= STORE_SLOW_GRACE_MS) {
      return indicator.up({ slow: true });
    }
    return indicator.down({
      message: outcome === 'slow' ? 'the database did not answer in time' : 'the database refused the ping',
    });
  }

  private ping(): Promise<PingOutcome> {
    if (this.pinging) return this.pinging;
    const pinging = this.askStore().finally(() => {
      if (this.pinging === pinging) this.pinging = undefined;
    });
    this.pinging = pinging;
    return pinging;
  }

  private async askStore(): Promise<PingOutcome> {
    // When it was sent: a store that takes seconds to answer each ping must not look as if it answered just now.
    const sentAt = performance.now();
    try {
      const db = this.connection.db;
      if (!db) return 'failed';
      // Bounded, so that a ping the store never answers does not hold every later check to itself.
      await db.command({ ping: 1 }, { timeoutMS: STORE_SLOW_GRACE_MS });
      this.answeredAt = Math.max(this.answeredAt, sentAt);
      return 'answered';
    } catch {
      return 'failed';
    }
  }
}

/** `GET /health` of a server that owns a database (the gateway probes it). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [DatabaseHealthController],
})
export class DatabaseHealthModule {}
