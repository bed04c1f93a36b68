import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { EventsModule } from '../events/events.module.js';
import { ProgressController } from './progress.controller.js';
import { ProgressService } from './progress.service.js';

@Module({
  imports: [EventsModule, ActivitiesModule],
  controllers: [ProgressController],
  providers: [ProgressService],
  exports: [ProgressService],
})
export class ProgressModule {}
