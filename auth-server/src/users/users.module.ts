import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { OutboxModule } from '../outbox/outbox.module.js';
import { RoleLockModule } from '../role-lock/role-lock.module.js';
import { ThrottlingModule } from '../throttling/throttling.module.js';
import { PasswordHasher } from './password-hasher.js';
import { RegistrationController } from './registration.controller.js';
import { CurrentRolesGuard } from './current-roles.guard.js';
import { UserRepository } from './user.repository.js';
import { UserEntity, UserSchema } from './user.schema.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';
import { PendingUserReportSweep } from './pending-user-report.sweep.js';

@Module({
  imports: [
    MongooseModule.forFeature([{ name: UserEntity.name, schema: UserSchema }]),
    OutboxModule,
    RoleLockModule,
    ThrottlingModule,
  ],
  controllers: [RegistrationController, UsersController],
  providers: [UserRepository, UsersService, PasswordHasher, CurrentRolesGuard, PendingUserReportSweep],
  exports: [UsersService, PasswordHasher],
})
export class UsersModule {}
