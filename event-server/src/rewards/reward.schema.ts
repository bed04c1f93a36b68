import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

export const REWARD_TYPES = ['POINT', 'ITEM', 'COUPON', 'CURRENCY'] as const;
export type RewardType = (typeof REWARD_TYPES)[number];

@Schema({ collection: 'rewards', timestamps: { createdAt: true, updatedAt: false }, versionKey: false })
export class RewardEntity {
  @Prop({ required: true }) eventId!: string;
  @Prop({ type: String, required: true, enum: REWARD_TYPES }) type!: RewardType;
  @Prop({ required: true }) name!: string;
  @Prop({ required: true }) quantity!: number;
  /** How many grants exist in total; absent = unlimited. */
  @Prop() stock?: number;
  @Prop() itemCode?: string;
  @Prop() couponCode?: string;
  createdAt!: Date;
}

export const RewardSchema = SchemaFactory.createForClass(RewardEntity);
RewardSchema.index({ eventId: 1, createdAt: 1 });
