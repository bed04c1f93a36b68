import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { KnownAddressRepository } from './known-address.repository.js';
import { KnownAddressEntity, KnownAddressSchema } from './known-address.schema.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { PasswordGate } from './password-gate.js';
import { ThrottleAttemptRepository } from './throttle-attempt.repository.js';
import { ThrottleAttemptEntity, ThrottleAttemptSchema } from './throttle-attempt.schema.js';
import { LoginThrottleInterceptor, RegistrationThrottleInterceptor } from './throttle.interceptor.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ThrottleAttemptEntity.name, schema: ThrottleAttemptSchema },
      { name: KnownAddressEntity.name, schema: KnownAddressSchema },
    ]),
  ],
  providers: [
    ThrottleAttemptRepository,
    KnownAddressRepository,
    LoginThrottleService,
    PasswordGate,
    LoginThrottleInterceptor,
    RegistrationThrottleInterceptor,
  ],
  exports: [LoginThrottleService, PasswordGate, LoginThrottleInterceptor, RegistrationThrottleInterceptor],
})
export class ThrottlingModule {}
