import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { leaseSchema } from '@reward/server-kit/lease-mutex';
import { ROLE_CHANGE_LOCKS, RoleChangeLock } from './role-change-lock.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: ROLE_CHANGE_LOCKS, schema: leaseSchema('role_change_locks') }])],
  providers: [RoleChangeLock],
  exports: [RoleChangeLock],
})
export class RoleLockModule {}
