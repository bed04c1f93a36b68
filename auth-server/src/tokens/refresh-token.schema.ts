import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Types } from 'mongoose';

@Schema({ collection: 'refresh_tokens', versionKey: false })
export class RefreshTokenEntity {
  _id: Types.ObjectId;

  @Prop({ type: String, required: true })
  tokenHash: string;

  @Prop({ type: String, required: true })
  userId: string;

  @Prop({ type: String, required: true })
  familyId: string;

  /** Absent on the first token of a login; unique where set: a token has at most one successor. */
  @Prop({ type: String })
  parentId?: string;

  @Prop({ type: Number, default: 0 })
  sessionEpoch: number;

  @Prop({ type: Date, required: true })
  expiresAt: Date;

  /**
   * When the sweep may delete the row: its expiry, or its parent's if later (the row holds the parent's
   * one-successor place). Absent on rows stored before it existed: their expiry is used.
   */
  @Prop({ type: Date })
  keepUntil?: Date;

  @Prop({ type: Date, required: true })
  createdAt: Date;
}

export const RefreshTokenSchema = SchemaFactory.createForClass(RefreshTokenEntity);
RefreshTokenSchema.index({ tokenHash: 1 }, { unique: true, name: 'token_hash_unique' });
// The rotation invariant: the one insert that wins this index is the one rotation.
RefreshTokenSchema.index({ parentId: 1 }, { unique: true, sparse: true, name: 'one_successor_per_token' });
RefreshTokenSchema.index({ familyId: 1 }, { name: 'by_family' });
// The sweep of expired tokens (TokensService.deleteExpired) reads by keepUntil, and by expiry for older rows.
RefreshTokenSchema.index({ expiresAt: 1 }, { name: 'by_expiry' });
RefreshTokenSchema.index({ keepUntil: 1 }, { name: 'by_keep_until' });

/** A revoked login: `_id` is the family id, so revoking twice is one record (idempotent insert). */
@Schema({ collection: 'refresh_token_family_revocations', versionKey: false, _id: false })
export class TokenFamilyRevocationEntity {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ type: String, required: true })
  userId: string;

  @Prop({ type: String, required: true })
  reason: string;

  @Prop({ type: Date, required: true })
  revokedAt: Date;
}

export const TokenFamilyRevocationSchema = SchemaFactory.createForClass(TokenFamilyRevocationEntity);
TokenFamilyRevocationSchema.index({ revokedAt: 1 }, { name: 'by_revoked_at' });
