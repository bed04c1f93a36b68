import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
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
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or INVALID_REFERRAL_CODE' })
  async register(@Body() body: RegisterUserDto): Promise<UserResponseDto> {
    return toUserResponse(await this.users.register(body));
  }
}
