import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { ActivitiesController } from './activities.controller.js';
import { ActivitiesService } from './activities.service.js';
import { ActivityRepository } from './activity.repository.js';
import { ActivityEntity, ActivitySchema } from './activity.schema.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: ActivityEntity.name, schema: ActivitySchema }]), AuditLogModule],
  controllers: [ActivitiesController],
  providers: [ActivityRepository, ActivitiesService],
  exports: [ActivityRepository, ActivitiesService],
})
export class ActivitiesModule {}
