import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { ServiceTokenGuard } from '../common/service-token.guard.js';
import { AuditLogService } from './audit-log.service.js';
import { InternalAuditEntryDto } from './dto/internal-audit-entry.dto.js';

/** Staff changes made on the auth server (role changes), delivered by its outbox. Not routed by the gateway. */
// Server-to-server only (not routed by the gateway): not part of the public API document.
@ApiExcludeController()
@Controller('internal/audit-logs')
export class InternalAuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Post()
  @HttpCode(201)
  @Public()
  @UseGuards(ServiceTokenGuard)
  record(@Body() body: InternalAuditEntryDto): Promise<{ inserted: boolean }> {
    return this.auditLog.recordReported({ ...body, at: new Date(body.at) });
  }
}
