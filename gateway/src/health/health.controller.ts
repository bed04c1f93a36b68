import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import { AnyQuery } from '@reward/server-kit/query-whitelist';
import { HealthFailureDto, HealthReportDto } from './health-report.dto.js';
import { type HealthReport, HealthService } from './health.service.js';

@ApiTags('gateway')
@ApiExtraModels(HealthFailureDto)
@AnyQuery()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 when the gateway and both servers answer; 503 with the error body naming the ones that do not. */
  @Public()
  @Get()
  @ApiEndpoint({
    operationId: 'getHealth',
    summary: 'Whether the gateway and both servers are ready',
    description: '503 names the servers that are not ready (`services`).',
    errors: { 503: [CommonErrorCode.SERVICE_UNAVAILABLE] },
    errorExtras: { 503: { schema: 'HealthFailureDto', description: 'a server that is not ready: `services` says which' } },
  })
  @ApiOkResponse({ type: HealthReportDto })
  check(): Promise<HealthReport> {
    return this.health.check();
  }
}
