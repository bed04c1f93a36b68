import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** A running event-server process and when it last recorded that it was alive (see InstanceLiveness). */
@Schema({ collection: 'event_server_instances', versionKey: false })
export class InstanceEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) startedAt!: Date;
  @Prop({ required: true }) beatAt!: Date;
  /** How often it beats: its silence is judged against its own rhythm. */
  @Prop({ required: true }) heartbeatMs!: number;
}

export const InstanceSchema = SchemaFactory.createForClass(InstanceEntity);
// Serves the prune of long-silent records at start.
InstanceSchema.index({ beatAt: 1 });
