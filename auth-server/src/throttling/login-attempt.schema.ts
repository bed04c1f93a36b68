import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One document per login attempt. Inserts are the only writes (no counters to race on), so every
 * replica sees the same count; old attempts are deleted periodically (FerretDB v1 has no TTL indexes).
 */
@Schema({ collection: 'login_attempts', versionKey: false })
export class LoginAttemptDocument {
  @Prop({ type: String, required: true })
  ip: string;

  @Prop({ type: Date, required: true })
  at: Date;
}

export const LoginAttemptSchema = SchemaFactory.createForClass(LoginAttemptDocument);
LoginAttemptSchema.index({ ip: 1, at: -1 }, { name: 'by_ip_newest_first' });
LoginAttemptSchema.index({ at: 1 }, { name: 'by_time' });
