import { Module } from '@nestjs/common';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { PlayerReadsModule } from '../player-reads/player-reads.module.js';
import { EditLockModule } from '../edit-lock/edit-lock.module.js';
import { EventsModule } from '../events/events.module.js';
import { StockModule } from '../stock/stock.module.js';
import { RewardStoreModule } from './reward-store.module.js';
import { RewardsController } from './rewards.controller.js';
import { RewardsService } from './rewards.service.js';

/** The rewards of an event: adding one, changing one, listing them with their remaining stock. */
@Module({
  imports: [RewardStoreModule, EventsModule, AuditLogModule, EditLockModule, StockModule, PlayerReadsModule],
  controllers: [RewardsController],
  providers: [RewardsService],
})
export class RewardsModule {}
