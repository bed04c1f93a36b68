import { createPublicKey } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import { call, login, openTestDatabase, startTestApp, testConfig, TEST_ADMIN } from '../testing/auth-test-app.js';
import { signingKeyFromPem } from './signing-key.js';

const apps: NestFastifyApplication[] = [];
const databases: string[] = [];

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const name of databases) {
    const db = await openTestDatabase(name);
    await db.dropDatabase();
    await db.close();
  }
});

async function start(dbName: string, env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const app = await startTestApp(testConfig(dbName, env));
  apps.push(app);
  return app;
}

const kidOf = async (app: NestFastifyApplication): Promise<string> => {
  const reply = await call(app, 'GET', '/.well-known/jwks.json');
  return (reply.body.keys as Array<{ kid: string }>)[0]!.kid;
};

describe('signing keys', () => {
  it('publishes only public RSA parameters, with the RFC 7638 thumbprint as kid', async () => {
    const pem = rsaPrivateKeyPem();
    const dbName = testDatabaseName('keys_cfg');
    databases.push(dbName);
    const app = await start(dbName, { JWT_PRIVATE_KEY: pem });
    const reply = await call(app, 'GET', '/.well-known/jwks.json');
    expect(reply.status).toBe(200);
    const keys = reply.body.keys as Array<Record<string, string>>;
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: (await signingKeyFromPem(pem)).kid });
    expect(createPublicKey({ key: keys[0]!, format: 'jwk' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    // The configured key is not written to the database.
    const db = await openTestDatabase(dbName);
    expect(await db.collection('signing_keys').countDocuments({ _id: 'access-token-signing-key' as never })).toBe(0);
    await db.close();
  });

  it('generates a key once, stores it, and a second instance on the same database publishes the same kid', async () => {
    const dbName = testDatabaseName('keys_gen');
    databases.push(dbName);
    const first = await start(dbName);
    const second = await start(dbName);
    const kid = await kidOf(first);
    expect(await kidOf(second)).toBe(kid);

    // A token from one instance is accepted by the other (a restart does not log anybody out).
    const session = await login(first, TEST_ADMIN.email, TEST_ADMIN.password);
    const me = await call(second, 'GET', '/users/me', { token: session.body.accessToken as string });
    expect(me.status).toBe(200);

    const db = await openTestDatabase(dbName);
    expect(await db.collection('signing_keys').countDocuments({ _id: 'access-token-signing-key' as never })).toBe(1);
    await db.close();
  });

  it('agrees on one key when several instances start at once on an empty database', async () => {
    const dbName = testDatabaseName('keys_race');
    databases.push(dbName);
    const instances = await Promise.all([start(dbName), start(dbName), start(dbName)]);
    const kids = await Promise.all(instances.map(kidOf));
    expect(new Set(kids).size).toBe(1);
  });
});
