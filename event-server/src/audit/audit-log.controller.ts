import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '@reward/server-kit/auth.guards';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import type { Page } from '@reward/server-kit/pagination';
import { Role } from '@reward/server-kit/roles';
import { toTimeRange } from '../common/time-range.js';
import type { AuditLogRecord, AuditTargetIdFilter } from './audit-log.js';
import { AuditLogService } from './audit-log.service.js';
import { AuditLogQueryDto } from './dto/audit-log-query.dto.js';
import { AuditLogPageResponseDto } from './dto/audit-log-response.dto.js';

/** An object id in upper or mixed case (ids are stored in lower case). */
const MIXED_CASE_OBJECT_ID = /^(?=.*[A-F])[0-9a-fA-F]{24}$/;

/**
 * What a targetId filter matches: the id as written and, for an object id in upper or mixed case, its lower-case
 * form as the id of anything but an import (as `actorId` and every route's ids are matched): an import's targetId
 * is its externalId, which is case-sensitive and may look like an object id, so it is matched as written only.
 */
export function targetIdFilter(targetId: string): AuditTargetIdFilter {
  return MIXED_CASE_OBJECT_ID.test(targetId) ? { written: targetId, lowerForIds: targetId.toLowerCase() } : { written: targetId };
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
        targetId: query.targetId === undefined ? undefined : targetIdFilter(query.targetId),
        from,
        to,
      },
      query,
    );
  }
}
