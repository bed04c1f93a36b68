import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import { call, login, openTestDatabase, register, startTestApp, testConfig, TEST_ADMIN } from '../testing/auth-test-app.js';
import { AdminBootstrapService } from './admin-bootstrap.service.js';

const dbName = testDatabaseName('bootstrap');
const keyPem = rsaPrivateKeyPem();
const apps: NestFastifyApplication[] = [];
let db: mongoose.Connection;

async function start(env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const app = await startTestApp(testConfig(dbName, { JWT_PRIVATE_KEY: keyPem, ...env }));
  apps.push(app);
  return app;
}

beforeAll(async () => {
  db = await openTestDatabase(dbName);
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await db?.dropDatabase();
  await db?.close();
});

describe('admin bootstrap', () => {
  it('creates the configured ADMIN on first start', async () => {
    const app = await start();
    const session = await login(app, TEST_ADMIN.email, TEST_ADMIN.password);
    expect(session.status).toBe(200);
    const me = await call(app, 'GET', '/users/me', { token: session.body.accessToken as string });
    expect(me.body).toMatchObject({ email: TEST_ADMIN.email, roles: ['ADMIN'] });
  });

  it('never overwrites the password of an existing account on restart', async () => {
    const before = await db.collection('users').findOne({ email: TEST_ADMIN.email });
    const app = await start({ ADMIN_PASSWORD: 'a-different-password' });
    const after = await db.collection('users').findOne({ email: TEST_ADMIN.email });
    expect(after?.passwordHash).toBe(before?.passwordHash);
    expect((await login(app, TEST_ADMIN.email, TEST_ADMIN.password)).status).toBe(200);
    expect((await login(app, TEST_ADMIN.email, 'a-different-password')).status).toBe(401);
    expect(await db.collection('users').countDocuments({ email: TEST_ADMIN.email })).toBe(1);
  });

  it('makes an existing non-admin account ADMIN, keeping its password', async () => {
    const app = apps[0]!;
    const user = await register(app, { email: 'later-admin@example.com', password: 'users-own-password' });
    expect(user.status).toBe(201);
    const restarted = await start({ ADMIN_EMAIL: 'Later-Admin@example.com', ADMIN_PASSWORD: 'configured-password' });
    expect(await restarted.get(AdminBootstrapService).ensureAdmin()).toBe('unchanged');
    const session = await login(restarted, 'later-admin@example.com', 'users-own-password');
    expect(session.status).toBe(200);
    const me = await call(restarted, 'GET', '/users/me', { token: session.body.accessToken as string });
    expect(me.body.roles).toEqual(['USER', 'ADMIN']);
  });

  it('tolerates several instances bootstrapping a new admin at once', async () => {
    const email = 'parallel-admin@example.com';
    await Promise.all([1, 2, 3].map(() => start({ ADMIN_EMAIL: email })));
    expect(await db.collection('users').countDocuments({ email })).toBe(1);
    expect((await db.collection('users').findOne({ email }))?.roles).toEqual(['ADMIN']);
  });
});
