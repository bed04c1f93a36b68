import { Body, Controller, Headers, HttpCode, Post, Req, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Public } from '@reward/server-kit/auth.guards';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_SCHEMA,
  INVALID_IDEMPOTENCY_KEY,
  parseIdempotencyKey,
} from '@reward/server-kit/idempotency-key';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import type { FastifyRequest } from 'fastify';
import { passwordRequestOf } from '../throttling/password-gate.js';
import { LoginThrottleInterceptor } from '../throttling/throttle.interceptor.js';
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
  @UseInterceptors(LoginThrottleInterceptor)
  @ApiEndpoint({
    operationId: 'login',
    summary: 'Exchange email and password for an access and a refresh token',
    description:
      'The same 401 INVALID_CREDENTIALS answers an unknown email and a wrong password. Failed attempts are ' +
      'throttled per account and address, per account, and (a much higher ceiling) per address; a successful login ' +
      'never counts: 429 with a `Retry-After` header (seconds). The per-account ceiling does not refuse an address ' +
      'the account signed in from within the last 60 days (`LOGIN_KNOWN_ADDRESS_DAYS`), so guesses from elsewhere ' +
      'do not lock the owner out there. A successful login records a LOGIN activity. ' +
      '503 AUTH_BUSY with `Retry-After` when the server is already checking as many passwords as it can (a crowd signing ' +
      'in at once): nothing was done and nothing counts; retry then.',
    errors: { 401: ['INVALID_CREDENTIALS'], 429: ['TOO_MANY_REQUESTS'], 503: ['AUTH_BUSY'] },
  })
  @ApiOkResponse({ type: TokenPairResponseDto })
  login(@Body() body: LoginDto, @Req() request: FastifyRequest): Promise<TokenPairResponseDto> {
    // Its password waits for its client's turn (the key of the throttle and holdFor), and not past its start-by time.
    return this.tokens.login(body.email, body.password, passwordRequestOf(request));
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiEndpoint({
    operationId: 'refreshTokens',
    summary: 'Exchange a refresh token for a new pair (the old refresh token stops working)',
    description:
      'Presenting a refresh token that was already rotated revokes the whole login (REFRESH_TOKEN_REUSED). A successful ' +
      'refresh records a LOGIN activity, as a login does (a session resumed is a sign-in for the login conditions), ' +
      'at most one per quarter hour of a session. Send an `Idempotency-Key` (a new one for each refresh, kept with ' +
      'the refresh token until the answer arrives) to retry safely: if the answer was lost (a 502, 503 or 504, a ' +
      'dropped connection), the same token with the same key within 5 minutes is answered the same new refresh ' +
      "token (and an access token that expires when the first answer's does, `expiresIn` saying what is left) instead of " +
      'REFRESH_TOKEN_REUSED, as long as that new refresh token has not ' +
      'been used. Without a key, or with another one, a second use of a token ends the login as before. ' +
      'A login may refresh 10 times at once, then once a minute (`REFRESH_BURST_PER_LOGIN`, ' +
      '`REFRESH_INTERVAL_SECONDS_PER_LOGIN`; per auth replica): past that, 429 TOO_MANY_REQUESTS with `Retry-After`, ' +
      'nothing written, and the token still works then.',
    errors: {
      400: [INVALID_IDEMPOTENCY_KEY],
      401: ['INVALID_REFRESH_TOKEN', 'REFRESH_TOKEN_REUSED'],
      429: ['TOO_MANY_REQUESTS'],
    },
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retry a refresh whose answer was lost: the same token and key within 5 minutes get the same new refresh token',
    schema: { ...IDEMPOTENCY_KEY_SCHEMA },
  })
  @ApiOkResponse({ type: TokenPairResponseDto })
  refresh(
    @Body() body: RefreshTokenDto,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
  ): Promise<TokenPairResponseDto> {
    return this.tokens.refresh(body.refreshToken, parseIdempotencyKey(idempotencyKey));
  }

  @Post('logout')
  @HttpCode(204)
  @ApiEndpoint({
    operationId: 'logout',
    summary: 'End the login a refresh token belongs to',
    description:
      "A token that is unknown or not the caller's changes nothing (still 204). A staff member's logout (a token " +
      'with a role besides USER) also ends the staff powers of every access token of the account issued before ' +
      "it: 401 STALE_ACCESS_TOKEN on staff routes (on the event server within moments). The account's other " +
      'sessions go on: their next refresh gives a token that works.',
  })
  @ApiNoContentResponse({ description: 'Logged out' })
  logout(@CurrentUser() caller: AuthenticatedUser, @Body() body: RefreshTokenDto): Promise<void> {
    return this.tokens.logout(caller, body.refreshToken);
  }
}
