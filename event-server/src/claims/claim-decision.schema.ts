import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { type ClaimReason, CLAIM_REASONS, CLAIM_STATUSES, type ClaimStatus } from './claim.state-machine.js';

/** One transition out of a state; unique on (claimId, fromStatus) so exactly one decision wins. */
@Schema({ collection: 'claim_decisions', versionKey: false })
export class ClaimDecisionEntity {
  @Prop({ required: true }) claimId!: string;
  @Prop({ type: String, required: true, enum: CLAIM_STATUSES }) fromStatus!: ClaimStatus;
  @Prop({ type: String, required: true, enum: CLAIM_STATUSES }) toStatus!: ClaimStatus;
  @Prop({ type: String, enum: CLAIM_REASONS }) reason?: ClaimReason;
  @Prop() note?: string;
  @Prop({ required: true }) decidedBy!: string;
  @Prop({ required: true }) at!: Date;
  @Prop() appliedAt?: Date;
  /**
   * True while the decision is not applied (written with the decision when it is not born applied, removed
   * with the same update that sets appliedAt): the reconciler finds these by an equality that every store
   * can serve (FerretDB v1 cannot push `appliedAt: {$exists: false}` down, and decoded every decision).
   */
  @Prop() applyPending?: boolean;
  /**
   * The payout outbox: true while the webhook deliveries of this decision (one per endpoint in
   * payoutEndpointIds, subscribed when it was made) are not yet recorded. Written by the decision's own
   * insert, so a grant and its webhooks are recorded together; the relay clears it.
   */
  @Prop() payoutPending?: boolean;
  /**
   * A reviewer's decision, to be projected once more by the reconciler after its grace: on a store whose
   * updates are read-then-write, a concurrent update of the claim may have written its old fields back.
   */
  @Prop() confirmPending?: boolean;
  @Prop({ type: [String], default: undefined }) payoutEndpointIds?: string[];
}

export const ClaimDecisionSchema = SchemaFactory.createForClass(ClaimDecisionEntity);
ClaimDecisionSchema.index({ claimId: 1, fromStatus: 1 }, { unique: true });
ClaimDecisionSchema.index({ appliedAt: 1, at: 1 });
ClaimDecisionSchema.index({ applyPending: 1, at: 1 });
ClaimDecisionSchema.index({ payoutPending: 1 });
ClaimDecisionSchema.index({ confirmPending: 1 });
// The payout back-fill's read of the decisions recorded since an endpoint was enabled (oldest first, paged).
ClaimDecisionSchema.index({ at: 1, _id: 1 });
