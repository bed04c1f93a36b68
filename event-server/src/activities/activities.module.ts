import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { ActivitiesController } from './activities.controller.js';
import { ActivitiesService } from './activities.service.js';
import { ActivityRepository } from './activity.repository.js';
import { ActivityEntity, ActivitySchema } from './activity.schema.js';
import { LoginMarkSweep } from './login-mark-sweep.js';
import { LoginQuarterRepository } from './login-quarter.repository.js';
import { LoginQuarterEntity, LoginQuarterSchema } from './login-quarter.schema.js';
import { InternalActivitiesController } from './internal-activities.controller.js';
import { ServiceTokenGuard } from '../common/service-token.guard.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ActivityEntity.name, schema: ActivitySchema },
      { name: LoginQuarterEntity.name, schema: LoginQuarterSchema },
    ]),
    AuditLogModule,
  ],
  controllers: [ActivitiesController, InternalActivitiesController],
  providers: [ActivityRepository, LoginQuarterRepository, LoginMarkSweep, ActivitiesService, ServiceTokenGuard],
  exports: [ActivityRepository, ActivitiesService],
})
export class ActivitiesModule {}
