import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { LoginAttemptRepository } from './login-attempt.repository.js';
import { LoginAttemptDocument, LoginAttemptSchema } from './login-attempt.schema.js';
import { LoginThrottleGuard } from './login-throttle.guard.js';
import { LoginThrottleService } from './login-throttle.service.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: LoginAttemptDocument.name, schema: LoginAttemptSchema }])],
  providers: [LoginAttemptRepository, LoginThrottleService, LoginThrottleGuard],
  exports: [LoginThrottleService, LoginThrottleGuard],
})
export class ThrottlingModule {}
