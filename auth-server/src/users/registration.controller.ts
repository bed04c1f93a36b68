import { Body, Controller, HttpCode, Post, Req, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import type { FastifyRequest } from 'fastify';
import { passwordRequestOf } from '../throttling/password-gate.js';
import { RegistrationThrottleInterceptor } from '../throttling/throttle.interceptor.js';
import { RegisterUserDto } from './dto/register-user.dto.js';
import { UserResponseDto } from './dto/user-response.dto.js';
import { toUserResponse } from './user.mapper.js';
import { UsersService } from './users.service.js';

@ApiTags('auth')
@Controller('auth')
export class RegistrationController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post('register')
  @HttpCode(201)
  @UseInterceptors(RegistrationThrottleInterceptor)
  @ApiEndpoint({
    operationId: 'register',
    summary: 'Create an account (roles ["USER"])',
    description:
      "With another user's `referralCode`, a FRIEND_INVITE activity is recorded for that user. Attempts are limited " +
      'per client address (REGISTRATIONS_PER_ADDRESS per REGISTRATION_WINDOW_SECONDS): 429 with `Retry-After`. ' +
      '503 AUTH_BUSY with `Retry-After` when the server is already hashing as many passwords as it can: nothing was ' +
      'done and the attempt does not count; retry then. A registration whose answer was lost (a 502/503/504, a dropped ' +
      'connection) may have made the account: if its retry is 409 EMAIL_TAKEN, log in with the same email and password.',
    errors: { 400: ['INVALID_REFERRAL_CODE'], 409: ['EMAIL_TAKEN'], 429: ['TOO_MANY_REQUESTS'], 503: ['AUTH_BUSY'] },
  })
  @ApiCreatedResponse({ type: UserResponseDto, description: 'The new account' })
  async register(@Body() body: RegisterUserDto, @Req() request: FastifyRequest): Promise<UserResponseDto> {
    // The client as the throttle's interceptor keys it (holdFor): its password waits for that client's turn. And
    // not past the start-by time: the gateway may have answered 504 by then, and an account made after it is one
    // its client was told failed (shed instead: 503 AUTH_BUSY, nothing made).
    return toUserResponse(await this.users.register(body, passwordRequestOf(request)));
  }
}
