import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

export type ThrottleScope = 'LOGIN' | 'REGISTER';

/**
 * One attempt that counts against a limit: a failed login (recorded, unsettled, before the password is
 * checked; settled when it failed, removed when it succeeded or never tested a password), or a registration. Inserts and deletes
 * only (no counters to race on), so every replica sees the same counts; old rows are swept periodically
 * (FerretDB v1 has no TTL indexes).
 */
@Schema({ collection: 'throttle_attempts', versionKey: false })
export class ThrottleAttemptEntity {
  @Prop({ type: String, required: true })
  scope: ThrottleScope;

  @Prop({ type: String, required: true })
  ip: string;

  /** The normalised email a login named; null for registrations. */
  @Prop({ type: String, default: null })
  account: string | null;

  @Prop({ type: Date, required: true })
  at: Date;

  /** False while a login is in flight (it may still succeed and vanish); true once it failed. */
  @Prop({ type: Boolean, required: true })
  settled: boolean;
}

export const ThrottleAttemptSchema = SchemaFactory.createForClass(ThrottleAttemptEntity);
ThrottleAttemptSchema.index({ scope: 1, account: 1, ip: 1, at: -1 }, { name: 'by_account_and_ip_newest_first' });
ThrottleAttemptSchema.index({ scope: 1, account: 1, at: -1 }, { name: 'by_account_newest_first' });
ThrottleAttemptSchema.index({ scope: 1, ip: 1, at: -1 }, { name: 'by_ip_newest_first' });
ThrottleAttemptSchema.index({ at: 1 }, { name: 'by_time' });
