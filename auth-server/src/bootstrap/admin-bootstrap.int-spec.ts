import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  it('never makes an existing account with another password ADMIN: it logs why at ERROR level and starts', async () => {
    const app = apps[0]!;
    const user = await register(app, { email: 'squatter@example.com', password: 'users-own-password' });
    expect(user.status).toBe(201);
    const before = await db.collection('users').findOne({ email: 'squatter@example.com' });
    const errors = vi.spyOn(Logger.prototype, 'error');
    try {
      const restarted = await start({ ADMIN_EMAIL: 'Squatter@example.com', ADMIN_PASSWORD: 'configured-password' });
      const refusal = errors.mock.calls.map(([message]) => String(message)).find((line) => line.includes('squatter@'));
      expect(refusal).toContain('exists and is not an ADMIN');
      expect(refusal).toContain(`id ${String(user.body.id)}`);
      expect(refusal).toContain('its password is not ADMIN_PASSWORD');
      expect(refusal).toContain('PATCH /users/{id}/roles');
      expect(refusal).toContain('another ADMIN_EMAIL');
      expect(await restarted.get(AdminBootstrapService).ensureAdmin()).toEqual({ outcome: 'not-admin', userId: user.body.id });
      const after = await db.collection('users').findOne({ email: 'squatter@example.com' });
      expect(after?.roles).toEqual(['USER']);
      expect(after?.passwordHash).toBe(before?.passwordHash);
      expect(after?.accessVersion).toEqual(before?.accessVersion);
      expect((await login(restarted, 'squatter@example.com', 'configured-password')).status).toBe(401);
      // The server is up and the platform's other admins can still act.
      const admin = await login(restarted, TEST_ADMIN.email, TEST_ADMIN.password);
      expect(admin.status).toBe(200);
      const list = await call(restarted, 'GET', '/users', { token: admin.body.accessToken as string });
      expect(list.status).toBe(200);
    } finally {
      errors.mockRestore();
    }
  });

  it('makes an existing account ADMIN when its password is ADMIN_PASSWORD, keeping it', async () => {
    const email = 'registered-first-by-the-operator@example.com';
    const user = await register(apps[0]!, { email, password: 'the-configured-password' });
    expect(user.status).toBe(201);
    const before = await db.collection('users').findOne({ email });
    const restarted = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the-configured-password' });
    const after = await db.collection('users').findOne({ email });
    expect(after?.roles).toEqual(['USER', 'ADMIN']);
    expect(after?.passwordHash).toBe(before?.passwordHash);
    expect(await restarted.get(AdminBootstrapService).ensureAdmin()).toEqual({ outcome: 'unchanged', userId: user.body.id });
  });

  it('reports the grant to the audit log and relays the access version, as any role change, when an ADMIN had removed it', async () => {
    const email = 'demoted-bootstrap-admin@example.com';
    const password = 'the-bootstrap-password';
    const first = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
    const account = await db.collection('users').findOne({ email });
    const id = String(account?._id);
    // Another ADMIN takes the role away (the audited change).
    const admin = await login(first, TEST_ADMIN.email, TEST_ADMIN.password);
    const demoted = await call(first, 'PATCH', `/users/${id}/roles`, {
      token: admin.body.accessToken as string,
      body: { roles: ['USER'] },
    });
    expect(demoted.status).toBe(200);
    const versionAfterDemotion = (await db.collection('users').findOne({ email }))?.accessVersion as number;

    // The next start gives it back (ADMIN_PASSWORD is still its password): not silently.
    await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
    const after = await db.collection('users').findOne({ email });
    expect(after?.roles).toEqual(['USER', 'ADMIN']);
    expect(after?.accessVersion).toBe(versionAfterDemotion + 1);
    const audit = await db
      .collection('outbox')
      .find({ kind: 'AUDIT', 'payload.action': 'USER_ROLES_CHANGED', 'payload.targetId': id })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    expect(audit.map((row) => row.payload as Record<string, unknown>)).toEqual([
      // Its creation at the first start: an ADMIN from nothing, by the holder of ADMIN_PASSWORD.
      expect.objectContaining({ actorId: id, changes: { roles: { before: [], after: ['ADMIN'] } } }),
      expect.objectContaining({ changes: { roles: { before: ['ADMIN'], after: ['USER'] } } }),
      expect.objectContaining({ actorId: id, changes: { roles: { before: ['USER'], after: ['USER', 'ADMIN'] } } }),
    ]);
    const notices = await db.collection('outbox').find({ kind: 'ACCESS', 'payload.userId': id }).toArray();
    expect(notices.map((row) => (row.payload as { accessVersion: number }).accessVersion)).toContain(after?.accessVersion);
  });

  it('several instances promoting the same account at once grant it once, with one audit row', async () => {
    const email = 'parallel-promotion@example.com';
    const user = await register(apps[0]!, { email, password: 'the-parallel-password' });
    expect(user.status).toBe(201);
    await Promise.all([1, 2, 3].map(() => start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the-parallel-password' })));
    expect((await db.collection('users').findOne({ email }))?.roles).toEqual(['USER', 'ADMIN']);
    const audit = await db
      .collection('outbox')
      .countDocuments({ kind: 'AUDIT', 'payload.action': 'USER_ROLES_CHANGED', 'payload.targetId': user.body.id });
    expect(audit).toBe(1);
  });

  it('tolerates several instances bootstrapping a new admin at once', async () => {
    const email = 'parallel-admin@example.com';
    await Promise.all([1, 2, 3].map(() => start({ ADMIN_EMAIL: email })));
    expect(await db.collection('users').countDocuments({ email })).toBe(1);
    const account = await db.collection('users').findOne({ email });
    expect(account?.roles).toEqual(['ADMIN']);
    // One creation, audited once: the instances that lost the insert added nothing.
    const audit = await db
      .collection('outbox')
      .find({ kind: 'AUDIT', 'payload.action': 'USER_ROLES_CHANGED', 'payload.targetId': String(account?._id) })
      .toArray();
    expect(audit.map((row) => row.payload as Record<string, unknown>)).toEqual([
      expect.objectContaining({ actorId: String(account?._id), changes: { roles: { before: [], after: ['ADMIN'] } } }),
    ]);
  });
});
