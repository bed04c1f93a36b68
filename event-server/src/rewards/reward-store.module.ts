import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { StockModule } from '../stock/stock.module.js';
import { RewardListing } from './reward-listing.js';
import { RewardRepository } from './reward.repository.js';
import { RewardEntity, RewardSchema } from './reward.schema.js';

/**
 * The rewards' collection and its reads. Events need them (an event's detail, the event catalog of the
 * claim path) and the reward routes need events, so the data sits below both modules instead of making
 * EventsModule and RewardsModule import each other.
 */
@Module({
  imports: [MongooseModule.forFeature([{ name: RewardEntity.name, schema: RewardSchema }]), StockModule],
  providers: [RewardRepository, RewardListing],
  exports: [RewardRepository, RewardListing],
})
export class RewardStoreModule {}
