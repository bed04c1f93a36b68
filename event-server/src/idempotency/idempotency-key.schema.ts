import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema } from 'mongoose';

/**
 * IN_PROGRESS while its request runs (or died); DONE with its outcome; FORGOTTEN when the reconciler found
 * that its request died having recorded nothing: the next request with the key takes it over, under the
 * same lineage (IdempotencyService).
 */
export const IDEMPOTENCY_STATES = ['IN_PROGRESS', 'DONE', 'FORGOTTEN'] as const;
export type IdempotencyState = (typeof IDEMPOTENCY_STATES)[number];

/** A refusal a request's use case threw (a DomainError below 500), stored to be thrown again on replay. */
export interface StoredError {
  status: number;
  code: string;
  message: string | string[];
  details?: Record<string, unknown>;
}

/** The first outcome of a request made with an Idempotency-Key; unique per (user, key). */
@Schema({ collection: 'idempotency_keys', versionKey: false })
export class IdempotencyKeyEntity {
  @Prop({ required: true }) userId!: string;
  @Prop({ required: true }) key!: string;
  /** What the key was first used for (event + normalised body): another request under the key is a 422. */
  @Prop({ required: true }) requestHash!: string;
  @Prop({ type: String, required: true, enum: IDEMPOTENCY_STATES }) state!: IdempotencyState;
  /** What the use case returned (not an HTTP body: the controller maps it again on replay)… */
  @Prop({ type: MongooseSchema.Types.Mixed }) result?: Record<string, unknown>;
  /** …or the refusal it threw. */
  @Prop({ type: MongooseSchema.Types.Mixed }) error?: StoredError;
  /**
   * …or, DONE without either, true: the outcome is what the use recorded under the key's lineage, a record
   * that never changes (a claim refused for good), read from there on replay.
   */
  @Prop() recorded?: boolean;
  @Prop({ required: true }) createdAt!: Date;
  /** The process that took the key (InstanceLiveness), when it records that it is alive. */
  @Prop() owner?: string;
  /**
   * The key's use (IdempotencyRecord.lineage): the id of the document its first request inserted, kept
   * when the key is taken over (IdempotencyService). Absent on keys from before it: their own id.
   */
  @Prop() lineage?: string;
}

export const IdempotencyKeySchema = SchemaFactory.createForClass(IdempotencyKeyEntity);
IdempotencyKeySchema.index({ userId: 1, key: 1 }, { unique: true });
IdempotencyKeySchema.index({ state: 1, createdAt: 1 });
IdempotencyKeySchema.index({ createdAt: 1 });
