import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogController } from './audit-log.controller.js';
import { AuditLogRepository } from './audit-log.repository.js';
import { AuditLogEntity, AuditLogSchema } from './audit-log.schema.js';
import { AuditLogService } from './audit-log.service.js';
import { ServiceTokenGuard } from '../common/service-token.guard.js';
import { InternalAuditLogController } from './internal-audit-log.controller.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: AuditLogEntity.name, schema: AuditLogSchema }])],
  controllers: [AuditLogController, InternalAuditLogController],
  providers: [AuditLogRepository, AuditLogService, ServiceTokenGuard],
  exports: [AuditLogService],
})
export class AuditLogModule {}
