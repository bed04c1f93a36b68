import { Body, Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiBody, ApiCreatedResponse, ApiExtraModels, ApiOkResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import type { Page } from '@reward/server-kit/pagination';
import { createValidationPipe } from '@reward/server-kit/validation';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { msLeftToStart } from '@reward/server-kit/start-by';
import { type ActivityView, ActivitiesService, type ImportResult } from './activities.service.js';
import { ActivityBatchDto, ActivityInputDto } from './dto/activity-input.dto.js';
import { ActivityQueryDto } from './dto/activity-query.dto.js';
import { ActivityPageResponseDto, ImportResultResponseDto } from './dto/activity-response.dto.js';

const validation = createValidationPipe();

/** The body is one activity or `{items: [...]}`; each shape is validated against its own DTO. */
export async function parseActivityBody(body: unknown): Promise<{ items: ActivityInputDto[]; batch: boolean }> {
  const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'items' in body;
  if (isBatch) {
    const batch = (await validation.transform(body, { type: 'body', metatype: ActivityBatchDto })) as ActivityBatchDto;
    return { items: batch.items, batch: true };
  }
  const single = (await validation.transform(body ?? {}, { type: 'body', metatype: ActivityInputDto })) as ActivityInputDto;
  return { items: [single], batch: false };
}

@ApiTags('activities')
@ApiExtraModels(ActivityInputDto, ActivityBatchDto)
@Controller('activities')
export class ActivitiesController {
  constructor(private readonly activities: ActivitiesService) {}

  @Post()
  @HttpCode(201)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'importActivities',
    summary: 'Record player activities: one, or a batch of up to 1000',
    description:
      'All items are checked before anything is written (one bad item writes nothing). The same `externalId` twice ' +
      'records one activity. The whole body is at most 1 MiB (413 PAYLOAD_TOO_LARGE): 1000 items fit when their ' +
      'attributes average under about 900 bytes, and it holds at most 100,000 values in all (400 ' +
      'JSON_TOO_MANY_VALUES: about 8 per item plus 2 per attribute field, so 1000 items of up to about 45 ' +
      'attribute fields); split larger imports. Recorded in the audit log. An item for the ' +
      "caller's own user id is 403 FORBIDDEN (staff who also play do not record their own activities). 503 " +
      'ACTIVITIES_BUSY with `Retry-After` when the server is already making as many activity writes as it can ' +
      '(ACTIVITY_MAX_IN_FLIGHT): nothing was written; retry then (the same `externalId`s record each activity once).',
    errors: { 503: ['ACTIVITIES_BUSY', CommonErrorCode.SERVICE_UNAVAILABLE] },
  })
  @ApiBody({
    schema: { oneOf: [{ $ref: getSchemaPath(ActivityInputDto) }, { $ref: getSchemaPath(ActivityBatchDto) }] },
  })
  @ApiCreatedResponse({ type: ImportResultResponseDto })
  async import(
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<ImportResult> {
    const { items, batch } = await parseActivityBody(body);
    return this.activities.import(items, batch, actor, msLeftToStart(request.headers));
  }

  @Get()
  @Roles(Role.OPERATOR, Role.AUDITOR)
  @ApiEndpoint({ operationId: 'listActivities', summary: 'Recorded activities, most recent first, with filters' })
  @ApiPageQuery()
  @ApiOkResponse({ type: ActivityPageResponseDto })
  list(@Query() query: ActivityQueryDto): Promise<Page<ActivityView>> {
    return this.activities.list(query);
  }
}
