import { randomUUID } from 'node:crypto';
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
 * The `servers` of the document as served to a request by `host` over `protocol`: first the gateway it was fetched
 * from (so a client generated from it, or Postman, calls this gateway, on whatever address and port), then the
 * committed ones (the local stack).
 */
function servedServers(
  committed: NonNullable<OpenAPIObject['servers']>,
  protocol: string,
  host: string | undefined,
): NonNullable<OpenAPIObject['servers']> {
  if (host === undefined || !PLAIN_HOST.test(host) || (protocol !== 'http' && protocol !== 'https')) return committed;
  const here = `${protocol}://${host}`;
  // The pattern admits what only looks like a host (a port past 65535, a bracketed address that is no IPv6
  // address): a client generated from the document would fail on such a server URL, so it is not named.
  if (!URL.canParse(here)) return committed;
  return [
    { url: here, description: 'This gateway (the one that served this document)' },
    ...committed.filter((server) => server.url !== here),
  ];
}

/**
 * The document's JSON, made once: the text before and after its `servers`, which alone differ by request. Serialized
 * on every request, the 430 KB document cost the gateway about 4 ms of CPU per anonymous GET /openapi.json (ten
 * times a proxied request's): 160 such requests a second from one client made every player's request through the
 * gateway take 400 ms instead of 8.
 */
export class ServedOpenApiText {
  private readonly before: string;
  private readonly after: string;
  private readonly committed: NonNullable<OpenAPIObject['servers']>;

  constructor(document: OpenAPIObject) {
    this.committed = document.servers ?? [];
    // A value no document holds, whose JSON marks where the servers go (in the document's own order of fields).
    const mark = `servers-${randomUUID()}`;
    const text = JSON.stringify({ ...document, servers: mark });
    const at = text.indexOf(JSON.stringify(mark));
    this.before = text.slice(0, at);
    this.after = text.slice(at + JSON.stringify(mark).length);
  }

  /** The document's JSON as served to a request by `host` over `protocol` (see servedServers). */
  for(protocol: string, host: string | undefined): string {
    return this.before + JSON.stringify(servedServers(this.committed, protocol, host)) + this.after;
  }
}

@ApiTags('gateway')
@AnyQuery()
@Controller()
export class DocsController {
  private readonly served: ServedOpenApiText;

  constructor(@Inject(MERGED_OPENAPI) document: OpenAPIObject) {
    this.served = new ServedOpenApiText(document);
  }

  @Public()
  @Get('openapi.json')
  @ApiEndpoint({ operationId: 'getOpenApi', summary: 'This document: the merged OpenAPI of the whole platform' })
  @ApiOkResponse({ description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } })
  openApi(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): string {
    // Its first server names the Host it was asked by: a cache in front must not hand one Host's copy to another.
    // (behind a trusted proxy, the Host and scheme it forwarded).
    void reply.header('vary', 'Host, X-Forwarded-Host, X-Forwarded-Proto');
    // JSON text already (Fastify sends a string of a JSON type as it is): nothing is serialized per request.
    void reply.header('content-type', 'application/json; charset=utf-8');
    return this.served.for(request.protocol, request.host);
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
