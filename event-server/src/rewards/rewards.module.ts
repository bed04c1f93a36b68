import { Module } from '@nestjs/common';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { EventsModule } from '../events/events.module.js';
import { RewardStoreModule } from './reward-store.module.js';
import { RewardsController } from './rewards.controller.js';
import { RewardsService } from './rewards.service.js';

/** The rewards of an event: adding one, listing them with their remaining stock. */
@Module({
  imports: [RewardStoreModule, EventsModule, AuditLogModule],
  controllers: [RewardsController],
  providers: [RewardsService],
})
export class RewardsModule {}
