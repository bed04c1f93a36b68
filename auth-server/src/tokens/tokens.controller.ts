import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentUser, Public } from '@reward/server-kit/auth.guards';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { LoginThrottleGuard } from '../throttling/login-throttle.guard.js';
import { LoginDto } from './dto/login.dto.js';
import { RefreshTokenDto } from './dto/refresh-token.dto.js';
import { TokenPairResponseDto } from './dto/token-pair-response.dto.js';
import { TokensService } from './tokens.service.js';

@ApiTags('auth')
@Controller('auth')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @UseGuards(LoginThrottleGuard)
  @ApiOkResponse({ type: TokenPairResponseDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (same answer for unknown email and wrong password)' })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_REQUESTS, with a Retry-After header (seconds)' })
  login(@Body() body: LoginDto): Promise<TokenPairResponseDto> {
    return this.tokens.login(body.email, body.password);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponseDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_REFRESH_TOKEN, or REFRESH_TOKEN_REUSED (the whole login is revoked)' })
  refresh(@Body() body: RefreshTokenDto): Promise<TokenPairResponseDto> {
    return this.tokens.refresh(body.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: "Ends the login the refresh token belongs to (if it is the caller's)" })
  logout(@CurrentUser() caller: AuthenticatedUser, @Body() body: RefreshTokenDto): Promise<void> {
    return this.tokens.logout(caller, body.refreshToken);
  }
}
