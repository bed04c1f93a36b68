import { Controller, Get, Module } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  type HealthCheckResult,
  MongooseHealthIndicator,
  TerminusModule,
} from '@nestjs/terminus';
import { Public } from './auth.guards.js';

@Controller('health')
export class DatabaseHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mongoose: MongooseHealthIndicator,
  ) {}

  /** Ready when the server's database answers a ping within a second; 503 otherwise. */
  @Public()
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.mongoose.pingCheck('database', { timeout: 1_000 })]);
  }
}

/** `GET /health` of a server that owns a database (the gateway probes it). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [DatabaseHealthController],
})
export class DatabaseHealthModule {}
