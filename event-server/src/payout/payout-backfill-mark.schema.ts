import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * What the payout back-fill has covered of one enabling of an endpoint (`enabledAt`): every transition stamped before
 * `coveredUntil` that the endpoint was owed has its delivery. Written by a pass that completed (insert-only, `_id`
 * `<endpointId>:<enabledAt ms>:<coveredUntil ms>`, so the same mark twice is refused); the latest is what counts, and a
 * writer removes those below its own. A mark never says more than a pass covered, so two replicas racing (or a lost
 * removal) leave at worst a lower mark than could be: more to read, never a transition skipped.
 */
@Schema({ collection: 'payout_backfill_marks', versionKey: false })
export class PayoutBackfillMarkEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) endpointId!: string;
  @Prop({ required: true }) enabledAt!: Date;
  @Prop({ required: true }) coveredUntil!: Date;
  @Prop({ required: true }) at!: Date;
}

export const PayoutBackfillMarkSchema = SchemaFactory.createForClass(PayoutBackfillMarkEntity);
// An equality on the endpoint (FerretDB pushes it down): a handful of marks each.
PayoutBackfillMarkSchema.index({ endpointId: 1 });
