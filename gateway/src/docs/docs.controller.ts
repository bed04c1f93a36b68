import { Controller, Get, Header, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags, type OpenAPIObject } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import { AnyQuery } from '@reward/server-kit/query-whitelist';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DOCS_PAGE, swaggerUiAsset } from './swagger-ui-assets.js';

export const MERGED_OPENAPI = Symbol('MERGED_OPENAPI');

/** A host as a client may name this gateway: a name or an address, and a port. Anything else is not echoed. */
const PLAIN_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The document as served: its first server is the gateway it was fetched from (so a client generated from
 * it, or Postman, calls this gateway, on whatever address and port), then the committed one (the local stack).
 */
export function servedOpenApi(document: OpenAPIObject, protocol: string, host: string | undefined): OpenAPIObject {
  if (host === undefined || !PLAIN_HOST.test(host) || (protocol !== 'http' && protocol !== 'https')) return document;
  const here = `${protocol}://${host}`;
  const committed = (document.servers ?? []).filter((server) => server.url !== here);
  return { ...document, servers: [{ url: here, description: 'This gateway (the one that served this document)' }, ...committed] };
}

@ApiTags('gateway')
@AnyQuery()
@Controller()
export class DocsController {
  constructor(@Inject(MERGED_OPENAPI) private readonly document: OpenAPIObject) {}

  @Public()
  @Get('openapi.json')
  @ApiEndpoint({ operationId: 'getOpenApi', summary: 'This document: the merged OpenAPI of the whole platform' })
  @ApiOkResponse({ description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } })
  openApi(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): OpenAPIObject {
    // Its first server names the Host it was asked by: a cache in front must not hand one Host's copy to another.
    // (behind a trusted proxy, the Host and scheme it forwarded).
    void reply.header('vary', 'Host, X-Forwarded-Host, X-Forwarded-Proto');
    return servedOpenApi(this.document, request.protocol, request.host);
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
