import { readFileSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { stableJson } from '@reward/server-kit/openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuthOpenApi, generateAuthOpenApi } from './openapi.js';
import { testDatabaseName } from '../../test-support/database.js';
import { rsaPrivateKeyPem } from '../../test-support/tokens.js';
import { openTestDatabase, startTestApp, testConfig } from './testing/auth-test-app.js';

const dbName = testDatabaseName('openapi');
let app: NestFastifyApplication;

beforeAll(async () => {
  app = await startTestApp(testConfig(dbName, { JWT_PRIVATE_KEY: rsaPrivateKeyPem() }));
});

afterAll(async () => {
  await app?.close();
  const db = await openTestDatabase(dbName);
  await db.dropDatabase();
  await db.close();
});

describe('auth OpenAPI document', () => {
  it('describes every route of the contract, and no secret field', () => {
    const document = buildAuthOpenApi(app);
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /.well-known/jwks.json',
        'GET /users',
        'GET /users/me',
        'POST /users/me/password',
        'PATCH /users/{id}/roles',
        'POST /auth/login',
        'POST /auth/logout',
        'POST /auth/refresh',
        'POST /auth/register',
        'POST /users/{id}/logout-all',
      ].sort(),
    );
    const schemas = document.components?.schemas ?? {};
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['RegisterUserDto', 'UserResponseDto', 'TokenPairResponseDto']));
    expect(JSON.stringify(schemas)).not.toMatch(/passwordHash|privateKey/);
  });

  it('is what npm run openapi committed (openapi/auth.json), and what a database-less build produces', async () => {
    const committed = readFileSync(new URL('../../openapi/auth.json', import.meta.url), 'utf8');
    expect(stableJson(buildAuthOpenApi(app))).toBe(committed);
    expect(stableJson(await generateAuthOpenApi())).toBe(committed);
  });
});
