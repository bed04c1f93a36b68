import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * A lease on one named mutex: `_id` is the mutex (the unique `_id` index is what admits one holder at a
 * time), or `<mutex>:takeover:<holder>` for the one right to clear that holder's expired lease.
 */
@Schema({ collection: 'role_change_locks', versionKey: false, _id: false })
export class RoleChangeLockEntity {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ type: String, required: true })
  holder: string;

  @Prop({ type: Date, required: true })
  expiresAt: Date;
}

export const RoleChangeLockSchema = SchemaFactory.createForClass(RoleChangeLockEntity);
