import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { RewardRepository } from '../rewards/reward.repository.js';
import { RewardEntity, RewardSchema } from '../rewards/reward.schema.js';
import { RewardsService } from '../rewards/rewards.service.js';
import { EventCatalog } from './event-catalog.js';
import { EventRepository } from './event.repository.js';
import { EventEntity, EventSchema } from './event.schema.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

/** Events and the rewards attached to them. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: EventEntity.name, schema: EventSchema },
      { name: RewardEntity.name, schema: RewardSchema },
    ]),
    AuditLogModule,
  ],
  controllers: [EventsController],
  providers: [EventRepository, EventsService, RewardRepository, RewardsService, EventCatalog],
  exports: [EventsService, RewardsService, EventCatalog],
})
export class EventsModule {}
