import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from '@reward/server-kit/auth.guards';
import type { Page } from '@reward/server-kit/pagination';
import { Role } from '@reward/server-kit/roles';
import { toTimeRange } from '../common/time-range.js';
import type { AuditLogRecord } from './audit-log.repository.js';
import { AuditLogService } from './audit-log.service.js';
import { AuditLogQueryDto } from './dto/audit-log-query.dto.js';

@Controller('audit-logs')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Get()
  @Roles(Role.AUDITOR)
  list(@Query() query: AuditLogQueryDto): Promise<Page<AuditLogRecord>> {
    const { from, to } = toTimeRange(query.from, query.to);
    return this.auditLog.list(
      { actorId: query.actorId, action: query.action, targetType: query.targetType, targetId: query.targetId, from, to },
      query,
    );
  }
}
