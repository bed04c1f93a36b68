import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import { AnyQuery } from '@reward/server-kit/query-whitelist';
import { JwksResponseDto } from './dto/jwks-response.dto.js';
import { SigningKeysService } from './signing-keys.service.js';

@ApiTags('auth')
@AnyQuery()
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeysService) {}

  /** The public keys that verify access tokens (the gateway and the event server fetch and cache this). */
  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiEndpoint({ operationId: 'getJwks', summary: 'The public keys (JWKS) that verify access tokens' })
  @ApiOkResponse({ type: JwksResponseDto })
  jwks(): JwksResponseDto {
    return this.keys.publicJwks();
  }
}
