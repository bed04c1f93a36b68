import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { DocsController, MERGED_OPENAPI } from './docs.controller.js';
import { readMergedOpenApi } from './openapi-file.js';
import { DOCS_PAGE } from './swagger-ui-assets.js';

/** GET /openapi.json and GET /docs (or /docs/): the committed merged document and Swagger UI over it. */
@Module({
  controllers: [DocsController],
  providers: [{ provide: MERGED_OPENAPI, useFactory: () => readMergedOpenApi() }],
})
export class DocsModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * /docs/ serves the page /docs serves (its files are named from the root, so it works from either). On
   * Fastify itself: Nest strips a trailing slash from a controller's path, which would make it /docs again.
   */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.get('/docs/', (_request, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
  }
}
