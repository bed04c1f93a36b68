import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { PAYOUT_STATUSES, type PayoutStatus } from '../payout/payout.rules.js';
import { type ClaimReason, CLAIM_REASONS, CLAIM_STATUSES, type ClaimStatus } from './claim.state-machine.js';

export class ClaimRewardEntity {
  @Prop({ required: true }) rewardId!: string;
  @Prop({ required: true }) type!: string;
  @Prop({ required: true }) name!: string;
  @Prop({ required: true }) quantity!: number;
  @Prop() itemCode?: string;
  @Prop() couponCode?: string;
}

export class ClaimPayoutEntity {
  @Prop({ type: String, required: true, enum: PAYOUT_STATUSES }) status!: PayoutStatus;
  @Prop({ required: true }) attempts!: number;
  @Prop() lastAttemptAt?: Date;
  @Prop() lastError?: string;
  @Prop() deliveredAt?: Date;
}

/** Every claim request, whatever its outcome, with the rewards as they were when it was made. */
@Schema({ collection: 'claims', versionKey: false })
export class ClaimEntity {
  @Prop({ required: true }) eventId!: string;
  @Prop({ required: true }) userId!: string;
  @Prop({ type: String, required: true, enum: CLAIM_STATUSES }) status!: ClaimStatus;
  @Prop({ type: String, enum: CLAIM_REASONS }) reason?: ClaimReason;
  @Prop() note?: string;
  @Prop({ type: [ClaimRewardEntity], _id: false, default: [] }) rewards!: ClaimRewardEntity[];
  /**
   * `eventId:userId` while the claim holds (or may hold) the user's one slot for the event, `own:<id>`
   * otherwise. Unique: at most one claim holds a slot, decided by the index, not by the process.
   */
  @Prop({ required: true }) slotKey!: string;
  @Prop() idempotencyKey?: string;
  @Prop({ required: true }) createdAt!: Date;
  @Prop() decidedAt?: Date;
  @Prop() decidedBy?: string;
  /** Set while a decision that gives stock back has not yet deleted the claim's units. */
  @Prop() releasePending?: boolean;
  /** Delivery of its webhooks, kept by the payout relay; absent = NOT_REQUIRED. */
  @Prop({ type: ClaimPayoutEntity, _id: false }) payout?: ClaimPayoutEntity;
  /**
   * The payout outbox of a claim born decided (it has no decision record): true while the deliveries
   * to the endpoints in payoutEndpointIds (subscribed when it was made) are not yet recorded. Written by
   * the claim's own insert; the relay clears it.
   */
  @Prop() payoutPending?: boolean;
  @Prop({ type: [String], default: undefined }) payoutEndpointIds?: string[];
  /**
   * The status a claim with a payout outbox was born with (GRANTED or PENDING), which its own webhook
   * announces. Written once by the insert: a decision may change `status` before the relay reads the
   * outbox, and the later move is the decision's own webhook, not this one's. Cleared with payoutPending.
   */
  @Prop({ type: String, enum: ['GRANTED', 'PENDING'] }) bornStatus?: 'GRANTED' | 'PENDING';
  /**
   * `rewardId:unit` while the claim holds a unit of its event's claim-held reward; unique (sparse): a unit
   * is held by one claim at most, decided by the claim's own insert. Removed, with unitRewardId, by the
   * decision that gives the stock back.
   */
  @Prop() unitKey?: string;
  /** The reward of unitKey (counts an event's remaining stock). */
  @Prop() unitRewardId?: string;
}

export const ClaimSchema = SchemaFactory.createForClass(ClaimEntity);
ClaimSchema.index({ slotKey: 1 }, { unique: true });
// History is newest first with _id as the tie-break, so each filter has an index in that order.
ClaimSchema.index({ userId: 1, createdAt: -1, _id: -1 });
ClaimSchema.index({ eventId: 1, createdAt: -1, _id: -1 });
// An event's review queue (eventId + status), page and total both from the index.
ClaimSchema.index({ eventId: 1, status: 1, createdAt: -1, _id: -1 });
// Also the reconciler's scan for claims stuck in PROCESSING (status + createdAt range).
ClaimSchema.index({ status: 1, createdAt: -1, _id: -1 });
ClaimSchema.index({ createdAt: -1, _id: -1 });
ClaimSchema.index({ userId: 1, idempotencyKey: 1, createdAt: -1 });
ClaimSchema.index({ releasePending: 1 });
ClaimSchema.index({ 'payout.status': 1, createdAt: -1, _id: -1 });
ClaimSchema.index({ payoutPending: 1 });
ClaimSchema.index({ unitKey: 1 }, { unique: true, sparse: true });
ClaimSchema.index({ unitRewardId: 1 });
