import { Global, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { RewardUnitRepository } from './reward-unit.repository.js';
import { RewardUnitEntity, RewardUnitSchema } from './reward-unit.schema.js';
import { StockService } from './stock.service.js';

/**
 * Global so that RewardsService (provided by EventsModule) can derive `remaining` from the units without
 * EventsModule and ClaimsModule importing each other.
 */
@Global()
@Module({
  imports: [MongooseModule.forFeature([{ name: RewardUnitEntity.name, schema: RewardUnitSchema }])],
  providers: [RewardUnitRepository, StockService],
  exports: [StockService],
})
export class StockModule {}
