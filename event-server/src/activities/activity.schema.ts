import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';

export const ACTIVITY_SOURCES = ['IMPORT', 'AUTH'] as const;
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

@Schema({ collection: 'activities', timestamps: { createdAt: true, updatedAt: false }, versionKey: false })
export class ActivityEntity {
  @Prop({ required: true }) userId!: string;
  @Prop({ required: true }) type!: string;
  @Prop({ required: true }) occurredAt!: Date;
  @Prop({ type: MongooseSchema.Types.Mixed }) attributes?: Record<string, unknown>;
  /**
   * Makes a write idempotent. Always set (generated when the client gives none): a unique index treats
   * "missing" as one shared value.
   */
  @Prop({ required: true }) externalId!: string;
  @Prop({ type: String, required: true, enum: ACTIVITY_SOURCES }) source!: ActivitySource;
  /** Who recorded it: the importing operator's id, or the service that sent it. */
  @Prop({ required: true }) recordedBy!: string;
  createdAt!: Date;
}

export const ActivitySchema = SchemaFactory.createForClass(ActivityEntity);
ActivitySchema.index({ externalId: 1 }, { unique: true });
// Progress: one user's activities of a few types inside an event's period.
ActivitySchema.index({ userId: 1, type: 1, occurredAt: 1 });
ActivitySchema.index({ occurredAt: -1, _id: -1 });
ActivitySchema.index({ type: 1, occurredAt: -1 });
// The login mark sweep: the LOGINs recorded since its last run.
ActivitySchema.index({ type: 1, createdAt: 1 });
// Progress: whether one user cleared a quest a condition names inside an event's period (one read per quest).
ActivitySchema.index({ userId: 1, type: 1, 'attributes.questId': 1, occurredAt: 1 });
