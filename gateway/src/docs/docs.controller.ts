import { Controller, Get, Header, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags, type OpenAPIObject } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import type { FastifyReply } from 'fastify';
import { DOCS_PAGE, swaggerUiAsset } from './swagger-ui-assets.js';

export const MERGED_OPENAPI = Symbol('MERGED_OPENAPI');

@ApiTags('gateway')
@Controller()
export class DocsController {
  constructor(@Inject(MERGED_OPENAPI) private readonly document: OpenAPIObject) {}

  @Public()
  @Get('openapi.json')
  @ApiEndpoint({ operationId: 'getOpenApi', summary: 'This document: the merged OpenAPI of the whole platform' })
  @ApiOkResponse({ description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } })
  openApi(): OpenAPIObject {
    return this.document;
  }

  /** Swagger UI over /openapi.json. */
  @Public()
  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @ApiExcludeEndpoint()
  page(): string {
    return DOCS_PAGE;
  }

  @Public()
  @Get('docs/:asset')
  @ApiExcludeEndpoint()
  asset(@Param('asset') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const asset = swaggerUiAsset(name);
    if (!asset) throw new DomainError(404, CommonErrorCode.NOT_FOUND, `No such file: ${name.slice(0, 64)}`);
    void reply.header('content-type', asset.type).header('cache-control', 'public, max-age=3600');
    return asset.body;
  }
}
