import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * A player logged in during this UTC quarter hour: one mark however many logins it holds, unique on
 * (userId, quarter), so at most 96 a day. Login conditions ask on which local days a player logged in; a
 * local day starts on a quarter hour in every zone in use, so a quarter hour lies in one local day of
 * every zone, and the marks of a period answer the question in a bounded read. `at` is the instant of
 * one login in the quarter hour (the first recorded); it decides the quarter hours an event's start or
 * end cuts in two (see readMarks). Insert-only: a unique index decides, nothing is
 * updated.
 */
@Schema({ collection: 'login_quarters', versionKey: false })
export class LoginQuarterEntity {
  @Prop({ required: true }) userId!: string;
  @Prop({ required: true }) quarter!: Date;
  @Prop({ required: true }) at!: Date;
}

export const LoginQuarterSchema = SchemaFactory.createForClass(LoginQuarterEntity);
LoginQuarterSchema.index({ userId: 1, quarter: 1 }, { unique: true });
