import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { leaseSchema } from '@reward/server-kit/lease-store';
import { RoleChangeLock } from './role-change-lock.js';
import { ROLE_CHANGE_LOCKS, RoleChangeLockRepository } from './role-change-lock.repository.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: ROLE_CHANGE_LOCKS, schema: leaseSchema('role_change_locks') }])],
  providers: [RoleChangeLockRepository, RoleChangeLock],
  exports: [RoleChangeLock],
})
export class RoleLockModule {}
