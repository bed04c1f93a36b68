import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';

/** One change made by staff. Written once; no route updates or deletes it. */
@Schema({ collection: 'audit_logs', versionKey: false })
export class AuditLogEntity {
  @Prop({ required: true }) actorId!: string;
  @Prop({ required: true }) action!: string;
  @Prop({ required: true }) targetType!: string;
  @Prop({ required: true }) targetId!: string;
  @Prop({ required: true }) at!: Date;
  @Prop({ type: MongooseSchema.Types.Mixed, default: {} }) changes!: Record<string, unknown>;
  /** Set on entries reported by another server, so a redelivered report is recorded once. */
  @Prop() externalId?: string;
}

export const AuditLogSchema = SchemaFactory.createForClass(AuditLogEntity);
AuditLogSchema.index({ at: -1, _id: -1 });
AuditLogSchema.index({ actorId: 1, at: -1 });
AuditLogSchema.index({ action: 1, at: -1 });
AuditLogSchema.index({ targetType: 1, targetId: 1, at: -1 });
AuditLogSchema.index({ externalId: 1 }, { unique: true, sparse: true });
