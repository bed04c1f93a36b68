import { Controller, Get, Inject, Injectable, Module, ServiceUnavailableException } from '@nestjs/common';
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
import { AnyQuery } from './query-whitelist.js';
import { CommonErrorCode, DomainError } from './errors.js';
import { Readiness } from './readiness.js';

/** The health report of a server that owns a database: its store's readiness (Readiness) in Terminus's shape. */
@Injectable()
export class DatabaseHealthService {
  private readonly readiness: Readiness;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(getConnectionToken()) connection: Connection,
  ) {
    this.readiness = new Readiness({
      ping: async (timeoutMs) => {
        const db = connection.db;
        if (!db) throw new Error('not connected');
        await db.command({ ping: 1 }, { timeoutMS: timeoutMs });
      },
    });
  }

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
    const outcome = await this.readiness.check();
    if (!outcome.ready) {
      const message = outcome.reason === 'silent' ? 'the database did not answer in time' : 'the database refused the ping';
      return indicator.down({ message });
    }
    return outcome.slow ? indicator.up({ slow: true }) : indicator.up();
  }
}

@AnyQuery()
@Controller('health')
export class DatabaseHealthController {
  constructor(private readonly health: DatabaseHealthService) {}

  /** Ready when the server's database answers a ping, or is only slow and answered one lately (Readiness); 503 otherwise. */
  @Public()
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check();
  }
}

/** `GET /health` of a server that owns a database (the gateway probes it). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [DatabaseHealthController],
  providers: [DatabaseHealthService],
})
export class DatabaseHealthModule {}
