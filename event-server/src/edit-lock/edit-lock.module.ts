import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { leaseSchema } from '@reward/server-kit/lease-store';
import { EditLock } from './edit-lock.js';
import { EDIT_LOCKS, EditLockRepository } from './edit-lock.repository.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: EDIT_LOCKS, schema: leaseSchema('edit_locks') }])],
  providers: [EditLockRepository, EditLock],
  exports: [EditLock],
})
export class EditLockModule {}
