import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types, trusted } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { StoredSuccessor, SuccessorInsertOutcome } from './refresh-rotation.js';
import { toRefreshToken } from './refresh-token.mapper.js';
import { RefreshTokenEntity, TokenFamilyRevocationEntity } from './refresh-token.schema.js';
import type { NewRefreshToken, RefreshToken } from './refresh-token.js';

export type FamilyRevocationReason = 'LOGOUT' | 'REUSE_DETECTED';

@Injectable()
export class RefreshTokenRepository implements OnModuleInit {
  constructor(
    @InjectModel(RefreshTokenEntity.name) private readonly tokens: Model<RefreshTokenEntity>,
    @InjectModel(TokenFamilyRevocationEntity.name) private readonly revocations: Model<TokenFamilyRevocationEntity>,
  ) {}

  async onModuleInit(): Promise<void> {
    await Promise.all([this.tokens.init(), this.revocations.init()]);
  }

  /** A fresh id for a token about to be inserted (the first token's id also names its family). */
  newId(): string {
    return new Types.ObjectId().toHexString();
  }

  /**
   * Inserts a token. A duplicate key is the parent's one-successor index, i.e. the parent was already rotated (or
   * the hash index, for a keyed successor made before by the same token and key: its parent was rotated too).
   */
  async insert(token: NewRefreshToken): Promise<SuccessorInsertOutcome> {
    try {
      await this.tokens.create({
        _id: new Types.ObjectId(token.id),
        tokenHash: token.tokenHash,
        userId: token.userId,
        familyId: token.familyId,
        ...(token.parentId !== null && { parentId: token.parentId }),
        sessionEpoch: token.sessionEpoch,
        expiresAt: token.expiresAt,
        keepUntil: token.keepUntil,
        createdAt: token.createdAt,
      });
      return 'inserted';
    } catch (error) {
      if (isDuplicateKeyError(error) && token.parentId !== null) return 'parent-already-has-successor';
      throw error;
    }
  }

  async findByHash(tokenHash: string): Promise<RefreshToken | undefined> {
    const document = await this.tokens.findOne({ tokenHash }).lean<RefreshTokenEntity>().exec();
    return document ? toRefreshToken(document) : undefined;
  }

  /** The token that replaced `parentId`, if any (the one-successor index). */
  async findSuccessor(parentId: string): Promise<StoredSuccessor | undefined> {
    const document = await this.tokens
      .findOne({ parentId }, { _id: 1, tokenHash: 1, createdAt: 1 })
      .lean<Pick<RefreshTokenEntity, '_id' | 'tokenHash' | 'createdAt'>>()
      .exec();
    return document
      ? { id: document._id.toHexString(), tokenHash: document.tokenHash, createdAt: document.createdAt }
      : undefined;
  }

  /** Whether `id` was itself rotated (has a successor). */
  async hasSuccessor(id: string): Promise<boolean> {
    return (await this.tokens.exists({ parentId: id }).exec()) !== null;
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return (await this.revocations.exists({ _id: familyId }).exec()) !== null;
  }

  /**
   * Tokens whose rows may go (keepUntil before `before`; for rows stored without one, their expiry): an expired
   * token is refused whatever else is known of it (and a replay of one is INVALID_REFRESH_TOKEN, never reuse), so
   * its row decides nothing any more, except while its parent could still be presented: the row holds the
   * parent's one-successor place, and deleting it would let a stolen, already rotated parent rotate again
   * unnoticed. keepUntil covers that (keepRowUntil).
   */
  async deleteExpiredBefore(before: Date): Promise<number> {
    const result = await this.tokens
      .deleteMany({
        $or: [
          { keepUntil: trusted({ $lt: before }) },
          { keepUntil: trusted({ $exists: false }), expiresAt: trusted({ $lt: before }) },
        ],
      })
      .exec();
    return result.deletedCount;
  }

  /**
   * Revocations made before `before` whose login has no token row left (the expired ones are deleted first), at
   * most `max` of them: a revocation must outlive every token of its login, whatever lifetime each was issued
   * with (REFRESH_TOKEN_TTL_SECONDS may have been lowered since), or a revoked token would work again.
   */
  async deleteRevocationsBefore(before: Date, max = 1000): Promise<number> {
    const old = await this.revocations
      .find({ revokedAt: trusted({ $lt: before }) }, { _id: 1 })
      .limit(max)
      .lean<Array<{ _id: string }>>()
      .exec();
    if (old.length === 0) return 0;
    const ids = old.map((revocation) => revocation._id);
    const live = new Set((await this.tokens.distinct('familyId', { familyId: trusted({ $in: ids }) }).exec()).map(String));
    const gone = ids.filter((id) => !live.has(id));
    if (gone.length === 0) return 0;
    const result = await this.revocations.deleteMany({ _id: trusted({ $in: gone }) }).exec();
    return result.deletedCount;
  }

  /** Idempotent: the first revocation is kept, later ones are no-ops (false; true when this call revoked it). */
  async revokeFamily(familyId: string, userId: string, reason: FamilyRevocationReason, at: Date): Promise<boolean> {
    try {
      await this.revocations.create({ _id: familyId, userId, reason, revokedAt: at });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return false;
    }
  }
}
