import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { type StoredSigningKey, toStoredSigningKey } from './signing-key.mapper.js';
import { SigningKeyEntity } from './signing-key.schema.js';

/** The one generated key lives under this id; its unique `_id` makes concurrent first starts agree. */
export const CURRENT_SIGNING_KEY_ID = 'access-token-signing-key';
/** The secret keyed refresh successors are made with: stored once, kept across signing-key rotations. */
export const REFRESH_RETRY_SECRET_ID = 'refresh-token-retry-secret';

@Injectable()
export class SigningKeyRepository implements OnModuleInit {
  constructor(@InjectModel(SigningKeyEntity.name) private readonly model: Model<SigningKeyEntity>) {}

  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  async findCurrent(): Promise<StoredSigningKey | undefined> {
    const document = await this.model.findById(CURRENT_SIGNING_KEY_ID).lean<SigningKeyEntity>().exec();
    return document ? toStoredSigningKey(document) : undefined;
  }

  /** Stores the key unless another replica stored one first; returns whichever key is now the current one. */
  async insertCurrentOrGetExisting(key: StoredSigningKey): Promise<StoredSigningKey> {
    try {
      await this.model.create({ _id: CURRENT_SIGNING_KEY_ID, privateKeyPem: key.privateKeyPem, createdAt: key.createdAt });
      return key;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const winner = await this.findCurrent();
      if (!winner) throw new Error('signing key insert collided but no stored key was found');
      return winner;
    }
  }

  /** The value stored under `id`, or `candidate` stored there if none was (the first insert of the unique `_id` wins). */
  async storedOrInsertSecret(id: string, candidate: string): Promise<string> {
    const stored = await this.model.findById(id).lean<SigningKeyEntity>().exec();
    if (stored) return stored.privateKeyPem;
    try {
      await this.model.create({ _id: id, privateKeyPem: candidate, createdAt: new Date() });
      return candidate;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const winner = await this.model.findById(id).lean<SigningKeyEntity>().exec();
      if (!winner) throw new Error('secret insert collided but no stored secret was found');
      return winner.privateKeyPem;
    }
  }
}
