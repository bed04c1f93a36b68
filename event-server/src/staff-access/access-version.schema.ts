import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One notice from the auth server: from `version` on, the user's older access tokens may make no staff write.
 * Inserted only (unique per user and version, so redelivery is harmless); the newest is the one that counts.
 */
@Schema({ collection: 'staff_access_versions', versionKey: false })
export class AccessVersionEntity {
  @Prop({ type: String, required: true })
  userId: string;

  @Prop({ type: Number, required: true })
  version: number;

  @Prop({ type: String, required: true })
  reason: string;

  @Prop({ type: Date, required: true })
  at: Date;
}

export const AccessVersionSchema = SchemaFactory.createForClass(AccessVersionEntity);
// Also the index of "the newest version of this user" (read backwards).
AccessVersionSchema.index({ userId: 1, version: 1 }, { unique: true, name: 'user_version_unique' });
