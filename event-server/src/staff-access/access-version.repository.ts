import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { Model } from 'mongoose';
import { AccessVersionEntity } from './access-version.schema.js';

export interface AccessVersionNotice {
  userId: string;
  version: number;
  reason: string;
  at: Date;
}

@Injectable()
export class AccessVersionRepository {
  constructor(@InjectModel(AccessVersionEntity.name) private readonly model: Model<AccessVersionEntity>) {}

  /** False when this (user, version) was recorded before: a redelivery. */
  async record(notice: AccessVersionNotice): Promise<boolean> {
    try {
      await this.model.create(notice);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /** The newest version the auth server reported for the user; 0 when it never reported one. */
  async findLatestVersion(userId: string): Promise<number> {
    const newest = await this.model
      .findOne({ userId })
      .sort({ version: -1 })
      .select({ version: 1, _id: 0 })
      .lean<Pick<AccessVersionEntity, 'version'>>()
      .exec();
    return newest?.version ?? 0;
  }
}
