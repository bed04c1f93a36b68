import { Controller, Get } from '@nestjs/common';
import { Public } from '@reward/server-kit/auth.guards';
import { type HealthReport, HealthService } from './health.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 when the gateway and both servers answer; 503 with the error body naming the ones that do not. */
  @Public()
  @Get()
  check(): Promise<HealthReport> {
    return this.health.check();
  }
}
