import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';

export const IDEMPOTENCY_STATES = ['IN_PROGRESS', 'DONE'] as const;
export type IdempotencyState = (typeof IDEMPOTENCY_STATES)[number];

/** The first answer to a request made with an Idempotency-Key; unique per (user, key). */
@Schema({ collection: 'idempotency_keys', versionKey: false })
export class IdempotencyKeyEntity {
  @Prop({ required: true }) userId!: string;
  @Prop({ required: true }) key!: string;
  /** What the key was first used for (event + normalised body): another request under the key is a 422. */
  @Prop({ required: true }) requestHash!: string;
  @Prop({ type: String, required: true, enum: IDEMPOTENCY_STATES }) state!: IdempotencyState;
  @Prop() responseStatus?: number;
  @Prop({ type: MongooseSchema.Types.Mixed }) responseBody?: Record<string, unknown>;
  @Prop({ required: true }) createdAt!: Date;
}

export const IdempotencyKeySchema = SchemaFactory.createForClass(IdempotencyKeyEntity);
IdempotencyKeySchema.index({ userId: 1, key: 1 }, { unique: true });
IdempotencyKeySchema.index({ state: 1, createdAt: 1 });
IdempotencyKeySchema.index({ createdAt: 1 });
