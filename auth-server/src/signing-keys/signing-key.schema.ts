import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * The generated access-token signing key (only used when JWT_PRIVATE_KEY is not configured, i.e. outside
 * production), and the refresh-retry secret (always: see SigningKeysService.refreshRetrySecret), each one
 * document under a fixed `_id`: the unique `_id` decides which replica's value wins. `privateKeyPem` holds the
 * key's PEM, or the secret's 32 bytes in base64url.
 */
@Schema({ collection: 'signing_keys', versionKey: false, _id: false })
export class SigningKeyEntity {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ type: String, required: true })
  privateKeyPem: string;

  @Prop({ type: Date, required: true })
  createdAt: Date;
}

export const SigningKeySchema = SchemaFactory.createForClass(SigningKeyEntity);
