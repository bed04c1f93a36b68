import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ClaimUnitRepository } from './claim-unit.repository.js';
import { RewardUnitRepository } from './reward-unit.repository.js';
import { RewardUnitEntity, RewardUnitSchema } from './reward-unit.schema.js';
import { StockService } from './stock.service.js';

/** Limited stock (unit documents, and units held on claims); imported by the modules that take, release or count units. */
@Module({
  imports: [MongooseModule.forFeature([{ name: RewardUnitEntity.name, schema: RewardUnitSchema }])],
  providers: [RewardUnitRepository, ClaimUnitRepository, StockService],
  exports: [StockService],
})
export class StockModule {}
