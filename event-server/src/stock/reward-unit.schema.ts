import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One granted or reserved unit of a limited reward. The unique index on (rewardId, unit) with unit in
 * 1..stock is what makes overselling impossible: a unit exists once or not at all, whatever the
 * concurrency (conditional updates are not atomic on FerretDB v1; inserts against a unique index are).
 */
@Schema({ collection: 'reward_units', versionKey: false })
export class RewardUnitEntity {
  @Prop({ required: true }) rewardId!: string;
  @Prop({ required: true }) unit!: number;
  @Prop({ required: true }) claimId!: string;
  @Prop({ required: true }) createdAt!: Date;
}

export const RewardUnitSchema = SchemaFactory.createForClass(RewardUnitEntity);
RewardUnitSchema.index({ rewardId: 1, unit: 1 }, { unique: true });
RewardUnitSchema.index({ claimId: 1 });
