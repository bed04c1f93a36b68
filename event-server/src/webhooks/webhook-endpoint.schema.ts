import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { WEBHOOK_EVENT_TYPES } from './webhook-events.js';

export class WebhookSecretEntity {
  @Prop({ required: true }) value!: string;
  @Prop({ required: true }) createdAt!: Date;
  /** Set on the previous secret by a rotation: signatures with it are still sent until then. */
  @Prop() expiresAt?: Date;
}

/** Where a game receives payout webhooks, and the secrets that sign them (the newest first). */
@Schema({ collection: 'webhook_endpoints', versionKey: false })
export class WebhookEndpointEntity {
  @Prop({ required: true }) url!: string;
  @Prop({ type: [String], enum: WEBHOOK_EVENT_TYPES, required: true }) events!: string[];
  @Prop() description?: string;
  @Prop({ required: true }) enabled!: boolean;
  /** Why the endpoint stopped receiving (e.g. it answered 410 Gone); cleared when enabled again. */
  @Prop() disabledReason?: string;
  @Prop({ type: [WebhookSecretEntity], _id: false, required: true }) secrets!: WebhookSecretEntity[];
  @Prop({ required: true }) createdBy!: string;
  @Prop({ required: true }) createdAt!: Date;
  @Prop({ required: true }) updatedAt!: Date;
}

export const WebhookEndpointSchema = SchemaFactory.createForClass(WebhookEndpointEntity);
// The directory's refresh reads the enabled ones (an equality filter, pushed down on FerretDB too).
WebhookEndpointSchema.index({ enabled: 1 });
