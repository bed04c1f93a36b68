import type { PendingAudit } from '../audit/audit-log.service.js';
import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';
import { WEBHOOK_EVENT_TYPES } from './webhook-events.js';

export class WebhookSecretEntity {
  @Prop({ required: true }) value!: string;
  @Prop({ required: true }) createdAt!: Date;
  /** Set on the previous secret by a rotation: signatures with it are still sent until then. */
  @Prop() expiresAt?: Date;
}

/** An event type an endpoint took while enabled (PATCH {events}), and since when it receives it. */
export class WebhookEventSinceEntity {
  @Prop({ required: true }) event!: string;
  @Prop({ required: true }) since!: Date;
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
  /**
   * Since when it receives (creation or latest re-enabling): each replica's relay back-fills the transitions
   * recorded since then by a replica whose copy did not list it yet. Absent on endpoints older than the field
   * (their createdAt stands in).
   */
  @Prop() enabledAt?: Date;
  /** The event types it took since enabledAt (each received from its own time on); cleared at each enabling. */
  @Prop({ type: [WebhookEventSinceEntity], _id: false, default: undefined }) eventsSince?: WebhookEventSinceEntity[];
  /**
   * Its latest disablings, oldest first: the last is when it was last disabled (a transition recorded from
   * then on that still names it is not sent to it); the first after an enabling ends that enabling's back-fill.
   */
  @Prop({ type: [Date], default: undefined }) disablings?: Date[];
  /** Its latest enablings, oldest first (its creation, then each re-enabling): see WebhookEndpointRecord.enablings. */
  @Prop({ type: [Date], default: undefined }) enablings?: Date[];
  @Prop({ type: [WebhookSecretEntity], _id: false, required: true }) secrets!: WebhookSecretEntity[];
  @Prop({ required: true }) createdBy!: string;
  /** The audit entry of a change written with it and not recorded yet (PendingAudit); absent otherwise. */
  @Prop({ type: MongooseSchema.Types.Mixed }) pendingAudit?: PendingAudit;
  @Prop({ required: true }) createdAt!: Date;
  @Prop({ required: true }) updatedAt!: Date;
}

export const WebhookEndpointSchema = SchemaFactory.createForClass(WebhookEndpointEntity);
// The directory's refresh reads the enabled ones (an equality filter, pushed down on FerretDB too).
WebhookEndpointSchema.index({ enabled: 1 });

/**
 * When an endpoint was deleted (`_id` is its id): a replica whose copy still listed it may record transitions for
 * it afterwards, and the relay drops those deliveries instead of failing them. One small document per deleted
 * endpoint, written before the endpoint is deleted, with the deletion's audit entry until it is recorded
 * (`pendingAudit`, as a change's rides on the changed document: the deleted one is gone with the write).
 */
@Schema({ collection: 'webhook_endpoint_removals', versionKey: false })
export class WebhookEndpointRemovalEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) at!: Date;
  @Prop({ type: MongooseSchema.Types.Mixed }) pendingAudit?: PendingAudit;
}

export const WebhookEndpointRemovalSchema = SchemaFactory.createForClass(WebhookEndpointRemovalEntity);
