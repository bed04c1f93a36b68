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
    return this.find(CURRENT_SIGNING_KEY_ID);
  }

  /** Stores the key unless another replica stored one first; returns whichever key is now the current one. */
  insertCurrentOrGetExisting(key: StoredSigningKey): Promise<StoredSigningKey> {
    return this.insertOrGetWinner(CURRENT_SIGNING_KEY_ID, key);
  }

  /** The value stored under `id`, or `candidate` stored there if none was (the first insert of the unique `_id` wins). */
  async storedOrInsertSecret(id: string, candidate: string): Promise<string> {
    const stored =
      (await this.find(id)) ?? (await this.insertOrGetWinner(id, { privateKeyPem: candidate, createdAt: new Date() }));
    return stored.privateKeyPem;
  }

  private async find(id: string): Promise<StoredSigningKey | undefined> {
    const document = await this.model.findById(id).lean<SigningKeyEntity>().exec();
    return document ? toStoredSigningKey(document) : undefined;
  }

  /** Inserts `value` under `id` unless another replica did first; returns what is stored there now. */
  private async insertOrGetWinner(id: string, value: StoredSigningKey): Promise<StoredSigningKey> {
    try {
      await this.model.create({ _id: id, privateKeyPem: value.privateKeyPem, createdAt: value.createdAt });
      return value;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const winner = await this.find(id);
      if (!winner) throw new Error(`insert of ${id} collided but nothing was found stored under it`);
      return winner;
    }
  }
}
