import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';
import type { PendingAudit } from '../audit/audit-log.service.js';
import type { Condition } from '../conditions/condition.types.js';

export const EVENT_STATUSES = ['ACTIVE', 'INACTIVE'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export const APPROVAL_MODES = ['AUTO', 'MANUAL'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

@Schema({ collection: 'events', timestamps: true, versionKey: false })
export class EventEntity {
  @Prop({ required: true }) title!: string;
  @Prop() description?: string;
  @Prop({ required: true }) startAt!: Date;
  @Prop({ required: true }) endAt!: Date;
  @Prop({ type: String, required: true, enum: EVENT_STATUSES }) status!: EventStatus;
  @Prop({ type: String, required: true, enum: APPROVAL_MODES }) approval!: ApprovalMode;
  @Prop({ required: true }) timezone!: string;
  @Prop({ type: MongooseSchema.Types.Mixed, required: true }) condition!: Condition;
  @Prop({ required: true }) createdBy!: string;
  /** Everyone who changed the event or its rewards (createdBy too; an event from before it was kept: absent). */
  @Prop({ type: [String], default: undefined }) editorIds?: string[];
  /** The audit entry of a change written with it and not recorded yet (PendingAudit); absent otherwise. */
  @Prop({ type: MongooseSchema.Types.Mixed }) pendingAudit?: PendingAudit;
  createdAt!: Date;
  updatedAt!: Date;
}

export const EventSchema = SchemaFactory.createForClass(EventEntity);
EventSchema.index({ createdAt: -1, _id: -1 });
EventSchema.index({ status: 1, startAt: 1, endAt: 1 });
