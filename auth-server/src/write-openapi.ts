import { writeFileSync } from 'node:fs';
import { stableJson } from '@reward/server-kit/openapi';
import { generateAuthOpenApi } from './openapi.js';

/** `node dist/write-openapi.js <file>`: writes the auth server's OpenAPI document (npm run openapi). */
const target = process.argv[2];
if (!target) throw new Error('usage: write-openapi.js <output file>');
writeFileSync(target, stableJson(await generateAuthOpenApi()));
