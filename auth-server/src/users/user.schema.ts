import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { ROLES, type Role } from '@reward/server-kit/roles';
import type { Types } from 'mongoose';

/** What a role change reports through the outbox (see UserEntity.pendingRoleReport). */
export interface PendingRoleReport {
  /** Names the change: its outbox rows' ids are made from it, so that reporting it again writes nothing more. */
  key: string;
  actorId: string;
  before: Role[];
  after: Role[];
  /** The user's access version once the change is written. */
  accessVersion: number;
  at: Date;
}

@Schema({ collection: 'users', versionKey: false, timestamps: true })
export class UserEntity {
  _id: Types.ObjectId;

  /** Normalised (trimmed, lower-case); the unique index is what enforces one account per address. */
  @Prop({ type: String, required: true })
  email: string;

  @Prop({ type: String, required: true })
  passwordHash: string;

  @Prop({ type: String, default: null })
  nickname: string | null;

  @Prop({ type: [String], enum: ROLES, required: true })
  roles: Role[];

  @Prop({ type: String, required: true })
  referralCode: string;

  /** The user whose referral code was used at registration. */
  @Prop({ type: String, default: null })
  referredBy: string | null;

  /**
   * Bumped by every role change and every "log out everywhere"; access tokens carry it (claim `av`) and the
   * event server refuses staff writes from a token older than the newest it was told of. A plain $inc: two
   * racing bumps may both write n+1, which still makes every token issued before them stale.
   */
  @Prop({ type: Number, default: 0 })
  accessVersion: number;

  /**
   * Set from a referral sign-up's insert until its invite's outbox row is written (UsersService.register): an
   * account left with it (a crash between the two) has its invite written by PendingUserReportSweep.
   */
  @Prop({ type: Boolean, default: undefined })
  invitePending?: boolean;

  /**
   * A role change's report (its access notice and audit entry, see UsersService) written with the roles and not
   * made yet: absent once made. A change cut off before its report (a crash, the store failing) is reported from it.
   */
  @Prop({ type: Object, default: undefined })
  pendingRoleReport?: PendingRoleReport;

  /** Bumped by "log out everywhere": refresh tokens of an older epoch are refused. */
  @Prop({ type: Number, default: 0 })
  sessionEpoch: number;

  createdAt: Date;
  updatedAt: Date;
}

export const UserSchema = SchemaFactory.createForClass(UserEntity);
UserSchema.index({ email: 1 }, { unique: true, name: 'email_unique' });
UserSchema.index({ referralCode: 1 }, { unique: true, name: 'referral_code_unique' });
UserSchema.index({ createdAt: -1, _id: -1 }, { name: 'newest_first' });
UserSchema.index({ roles: 1, createdAt: -1, _id: -1 }, { name: 'by_role_newest_first' });
// The sweep's two reads (PendingUserReportSweep): only the few users left with a report or an invite to write are
// in these (sparse), so on MongoDB a sweep reads them, not every user.
UserSchema.index({ invitePending: 1 }, { sparse: true, name: 'invite_pending' });
UserSchema.index({ 'pendingRoleReport.key': 1 }, { sparse: true, name: 'role_report_pending' });
