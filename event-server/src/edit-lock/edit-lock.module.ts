import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { leaseSchema } from '@reward/server-kit/lease-mutex';
import { EDIT_LOCKS, EditLock } from './edit-lock.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: EDIT_LOCKS, schema: leaseSchema('edit_locks') }])],
  providers: [EditLock],
  exports: [EditLock],
})
export class EditLockModule {}
