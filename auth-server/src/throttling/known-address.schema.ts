import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * An address an account signed in from with its password (see LoginThrottleService): there, the owner is not
 * refused by the per-account ceiling that a guess spread over other addresses fills. One document per
 * (account, address), which the unique index decides; `lastSignInAt` is a plain update (each successful
 * sign-in writes "now", so racing writers agree closely enough). Old rows are swept periodically (FerretDB
 * v1 has no TTL indexes), and an account keeps only its most recent few.
 */
@Schema({ collection: 'known_login_addresses', versionKey: false })
export class KnownAddressEntity {
  /** The normalised email, as the throttle's attempts name it. */
  @Prop({ type: String, required: true })
  account: string;

  /** The client address as the throttle sees it (X-Forwarded-For believed only from AUTH_TRUSTED_PROXIES). */
  @Prop({ type: String, required: true })
  ip: string;

  @Prop({ type: Date, required: true })
  lastSignInAt: Date;
}

export const KnownAddressSchema = SchemaFactory.createForClass(KnownAddressEntity);
KnownAddressSchema.index({ account: 1, ip: 1 }, { unique: true, name: 'one_per_account_and_ip' });
KnownAddressSchema.index({ account: 1, lastSignInAt: -1 }, { name: 'by_account_newest_first' });
KnownAddressSchema.index({ lastSignInAt: 1 }, { name: 'by_time' });
