import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '@reward/server-kit/auth.guards';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import type { Page } from '@reward/server-kit/pagination';
import { Role } from '@reward/server-kit/roles';
import { toTimeRange } from '../common/time-range.js';
import type { AuditLogRecord } from './audit-log.js';
import { AuditLogService } from './audit-log.service.js';
import { AuditLogQueryDto } from './dto/audit-log-query.dto.js';
import { AuditLogPageResponseDto } from './dto/audit-log-response.dto.js';

/** An object id in upper or mixed case (ids are stored in lower case). */
const MIXED_CASE_OBJECT_ID = /^(?=.*[A-F])[0-9a-fA-F]{24}$/;

/**
 * What a targetId filter matches: the id as written and, for an object id in upper or mixed case, its lower-case
 * form (as `actorId` and every route's ids are matched), the written form kept for an import's externalId, which is
 * case-sensitive and may look like one.
 */
export function targetIdForms(targetId: string): string[] {
  return MIXED_CASE_OBJECT_ID.test(targetId) ? [targetId, targetId.toLowerCase()] : [targetId];
}

@ApiTags('audit-logs')
@Controller('audit-logs')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Get()
  @Roles(Role.AUDITOR)
  @ApiEndpoint({ operationId: 'listAuditLogs', summary: 'Changes made by staff, most recent first, with filters' })
  @ApiPageQuery()
  @ApiOkResponse({ type: AuditLogPageResponseDto })
  list(@Query() query: AuditLogQueryDto): Promise<Page<AuditLogRecord>> {
    const { from, to } = toTimeRange(query.from, query.to);
    return this.auditLog.list(
      // Ids are stored in lower case; an id is matched without regard to case, as on every other route.
      {
        actorId: query.actorId?.toLowerCase(),
        action: query.action,
        targetType: query.targetType,
        targetId: query.targetId === undefined ? undefined : targetIdForms(query.targetId),
        from,
        to,
      },
      query,
    );
  }
}
