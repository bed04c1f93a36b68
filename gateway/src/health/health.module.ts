import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { UpstreamProbe } from './upstream-probe.js';

@Module({
  controllers: [HealthController],
  providers: [HealthService, UpstreamProbe],
})
export class HealthModule {}
