import { Module } from '@nestjs/common';
import { DocsController, MERGED_OPENAPI } from './docs.controller.js';
import { readMergedOpenApi } from './openapi-file.js';

/** GET /openapi.json and GET /docs: the committed merged document and Swagger UI over it. */
@Module({
  controllers: [DocsController],
  providers: [{ provide: MERGED_OPENAPI, useFactory: () => readMergedOpenApi() }],
})
export class DocsModule {}
