import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { Model } from 'mongoose';
import { RoleChangeLockEntity } from './role-change-lock.schema.js';

export interface LockLease {
  holder: string;
  expiresAt: Date;
}

@Injectable()
export class RoleChangeLockRepository implements OnModuleInit {
  constructor(@InjectModel(RoleChangeLockEntity.name) private readonly model: Model<RoleChangeLockEntity>) {}

  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  /** True when this insert won the key; false when someone holds it (duplicate key). */
  async tryInsert(key: string, lease: LockLease): Promise<boolean> {
    try {
      await this.model.create({ _id: key, holder: lease.holder, expiresAt: lease.expiresAt });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async find(key: string): Promise<LockLease | undefined> {
    const document = await this.model.findById(key).lean<RoleChangeLockEntity>().exec();
    return document ? { holder: document.holder, expiresAt: document.expiresAt } : undefined;
  }

  /** Deletes the key only while this holder has it. */
  async deleteHeld(key: string, holder: string): Promise<void> {
    await this.model.deleteOne({ _id: key, holder }).exec();
  }
}
