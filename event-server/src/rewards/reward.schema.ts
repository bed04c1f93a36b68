import type { PendingAudit } from '../audit/audit-log.service.js';
import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';

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
  /** The audit entry of a change written with it and not recorded yet (PendingAudit); absent otherwise. */
  @Prop({ type: MongooseSchema.Types.Mixed }) pendingAudit?: PendingAudit;
  /**
   * The event's id on the one limited reward per event whose units are recorded on the claims themselves
   * (a claim's `unitKey`), so that a claim taking only that reward is one insert. Unique: the first limited
   * reward created for an event wins it, and the choice never changes (every replica agrees where a reward's
   * units live). Absent on every other reward, whose units are `reward_units` documents.
   */
  @Prop() claimUnitsOf?: string;
  /**
   * `<eventId>:<n>`, the reward's place among its event's rewards: unique, so that two rewards added at once
   * cannot both take the last place under MAX_REWARDS_PER_EVENT. Absent on rewards created before it existed.
   */
  @Prop() position?: string;
  createdAt!: Date;
}

export const RewardSchema = SchemaFactory.createForClass(RewardEntity);
RewardSchema.index({ eventId: 1, createdAt: 1 });
RewardSchema.index({ claimUnitsOf: 1 }, { unique: true, sparse: true });
RewardSchema.index({ position: 1 }, { unique: true, sparse: true });
