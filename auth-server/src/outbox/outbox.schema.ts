import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema, type Types } from 'mongoose';
import type { OutboxKind } from './outbox-message.js';

/**
 * A message to the event server, written in the same request path as the change it reports and removed
 * (after a retention) once delivered. `nextAttemptAt` doubles as the lease: a relay that takes a row
 * pushes it into the future, so other relays skip it until the lease runs out.
 */
@Schema({ collection: 'outbox', versionKey: false })
export class OutboxEntity {
  _id: Types.ObjectId;

  @Prop({ type: String, required: true, enum: ['ACTIVITY', 'AUDIT', 'ACCESS'] })
  kind: OutboxKind;

  @Prop({ type: MongooseSchema.Types.Mixed, required: true })
  payload: Record<string, unknown>;

  @Prop({ type: Date, required: true })
  createdAt: Date;

  @Prop({ type: Number, required: true, default: 0 })
  attempts: number;

  @Prop({ type: Date, required: true })
  nextAttemptAt: Date;

  /** Which relay took the row last (a random token per take); only used to re-read what it took. */
  @Prop({ type: String, default: null })
  leasedBy: string | null;

  @Prop({ type: Date, default: null })
  deliveredAt: Date | null;

  /** Set when the event server refused the message for good (a 4xx that retrying cannot fix). */
  @Prop({ type: Date, default: null })
  failedAt: Date | null;

  @Prop({ type: String, default: null })
  lastError: string | null;
}

export const OutboxSchema = SchemaFactory.createForClass(OutboxEntity);
// Pending rows are `deliveredAt: null, failedAt: null` ordered by due time; delivered ones are swept by deliveredAt.
OutboxSchema.index({ deliveredAt: 1, failedAt: 1, nextAttemptAt: 1 }, { name: 'pending_by_due_time' });
// Access notices are taken before the rest (OutboxRepository.lease), without passing over every due row.
OutboxSchema.index({ kind: 1, deliveredAt: 1, failedAt: 1, nextAttemptAt: 1 }, { name: 'pending_by_kind_and_due_time' });
