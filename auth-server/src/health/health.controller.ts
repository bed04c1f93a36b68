import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult, MongooseHealthIndicator } from '@nestjs/terminus';
import { Public } from '@reward/server-kit/auth.guards';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mongoose: MongooseHealthIndicator,
  ) {}

  /** Ready when the database answers a ping; 503 otherwise. */
  @Public()
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.mongoose.pingCheck('database', { timeout: 1_000 })]);
  }
}
