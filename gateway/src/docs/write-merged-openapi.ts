import { readFileSync, writeFileSync } from 'node:fs';
import type { OpenAPIObject } from '@nestjs/swagger';
import { stableJson } from '@reward/server-kit/openapi';
import { generateGatewayOpenApi } from './gateway-openapi.js';
import { mergeOpenApi } from './merge-openapi.js';
import { MERGED_OPENAPI_FILE, OPENAPI_DIR } from './openapi-file.js';

/**
 * `node dist/docs/write-merged-openapi.js` (npm run openapi, after each server wrote its document):
 * merges openapi/auth.json, openapi/event.json and the gateway's own routes into openapi/openapi.json.
 */
const part = (name: string): OpenAPIObject => JSON.parse(readFileSync(`${OPENAPI_DIR}${name}`, 'utf8')) as OpenAPIObject;
const merged = mergeOpenApi(await generateGatewayOpenApi(), { auth: part('auth.json'), event: part('event.json') });
writeFileSync(MERGED_OPENAPI_FILE, stableJson(merged));
