import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * The committed documents (`npm run openapi` writes them): `<repo>/openapi/`, the same two levels up
 * from src/docs and from dist/docs. The gateway serves the merged one as committed, so it needs no upstream.
 */
export const OPENAPI_DIR = fileURLToPath(new URL('../../../openapi/', import.meta.url));
export const MERGED_OPENAPI_FILE = `${OPENAPI_DIR}openapi.json`;

/** The committed merged document, read once at boot (a missing or broken file stops the gateway there). */
export function readMergedOpenApi(file = MERGED_OPENAPI_FILE): OpenAPIObject {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as OpenAPIObject;
  } catch (error) {
    throw new Error(`cannot read the merged OpenAPI document ${file} (run npm run openapi): ${(error as Error).message}`, {
      cause: error,
    });
  }
}
