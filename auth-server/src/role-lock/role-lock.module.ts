import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { RoleChangeLockRepository } from './role-change-lock.repository.js';
import { RoleChangeLockEntity, RoleChangeLockSchema } from './role-change-lock.schema.js';
import { RoleChangeLock } from './role-change-lock.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: RoleChangeLockEntity.name, schema: RoleChangeLockSchema }])],
  providers: [RoleChangeLockRepository, RoleChangeLock],
  exports: [RoleChangeLock],
})
export class RoleLockModule {}
