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

/**
 * A platform of its own (its own database, `store`): `start` starts an instance on it, whose first start creates
 * TEST_ADMIN; a test that needs a platform without an ADMIN then removes that account from the store.
 */
async function platformWithoutAdmin(name: string): Promise<{
  store: mongoose.Connection;
  start: (env?: Record<string, string>) => Promise<NestFastifyApplication>;
}> {
  const ownDb = testDatabaseName(name);
  const store = await openTestDatabase(ownDb);
  const startOwn = async (env: Record<string, string> = {}) => {
    const app = await startTestApp(testConfig(ownDb, { JWT_PRIVATE_KEY: keyPem, ...env }));
    apps.push(app);
    return app;
  };
  stores.push(store);
  return { store, start: startOwn };
}
const stores: mongoose.Connection[] = [];

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const store of [db, ...stores]) {
    await store?.dropDatabase();
    await store?.close();
  }
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

  it('makes an existing account ADMIN when its password is ADMIN_PASSWORD and no account is ADMIN, keeping it', async () => {
    const { store, start: startOwn } = await platformWithoutAdmin('bootstrap_promote');
    const first = await startOwn();
    const email = 'registered-first-by-the-operator@example.com';
    const user = await register(first, { email, password: 'the-configured-password' });
    expect(user.status).toBe(201);
    await store.collection('users').deleteOne({ email: TEST_ADMIN.email });
    const before = await store.collection('users').findOne({ email });
    const restarted = await startOwn({ ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the-configured-password' });
    const after = await store.collection('users').findOne({ email });
    expect(after?.roles).toEqual(['USER', 'ADMIN']);
    expect(after?.passwordHash).toBe(before?.passwordHash);
    expect(await restarted.get(AdminBootstrapService).ensureAdmin()).toEqual({ outcome: 'unchanged', userId: user.body.id });
  });

  it('leaves an account with ADMIN_PASSWORD without ADMIN while other accounts are ADMIN: it warns why and starts', async () => {
    const email = 'not-yet-given@example.com';
    const user = await register(apps[0]!, { email, password: 'the-configured-password' });
    expect(user.status).toBe(201);
    const warnings = vi.spyOn(Logger.prototype, 'warn');
    try {
      const restarted = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the-configured-password' });
      const told = warnings.mock.calls.map(([message]) => String(message)).find((line) => line.includes(email));
      expect(told).toContain(`id ${String(user.body.id)}`);
      expect(told).toContain('not an ADMIN, and other accounts are');
      expect(told).toContain('PATCH /users/{id}/roles');
      expect(await restarted.get(AdminBootstrapService).ensureAdmin()).toEqual({
        outcome: 'left-to-admins',
        userId: user.body.id,
      });
    } finally {
      warnings.mockRestore();
    }
    expect((await db.collection('users').findOne({ email }))?.roles).toEqual(['USER']);
  });

  it('never gives ADMIN back at a restart once an ADMIN took it away (a compromised bootstrap account stays removed)', async () => {
    const email = 'removed-bootstrap-admin@example.com';
    const password = 'the-bootstrap-password';
    const first = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
    const id = String((await db.collection('users').findOne({ email }))?._id);
    const admin = await login(first, TEST_ADMIN.email, TEST_ADMIN.password);
    const demoted = await call(first, 'PATCH', `/users/${id}/roles`, {
      token: admin.body.accessToken as string,
      body: { roles: ['USER'] },
    });
    expect(demoted.status).toBe(200);
    const afterDemotion = await db.collection('users').findOne({ email });
    const auditRows = () =>
      db.collection('outbox').countDocuments({ kind: 'AUDIT', 'payload.action': 'USER_ROLES_CHANGED', 'payload.targetId': id });
    const audited = await auditRows();

    const restarted = await start({ ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
    const after = await db.collection('users').findOne({ email });
    expect(after?.roles).toEqual(['USER']);
    expect(after?.accessVersion).toBe(afterDemotion?.accessVersion);
    expect(await auditRows()).toBe(audited);
    // Signing in with ADMIN_PASSWORD gives a player's token, not an ADMIN's.
    const session = await login(restarted, email, password);
    const me = await call(restarted, 'GET', '/users/me', { token: session.body.accessToken as string });
    expect(me.body).toMatchObject({ roles: ['USER'] });
  });

  it('reports the grant to the audit log and relays the access version, as any role change, when no ADMIN was left', async () => {
    const { store, start: startOwn } = await platformWithoutAdmin('bootstrap_recover');
    const email = 'demoted-bootstrap-admin@example.com';
    const password = 'the-bootstrap-password';
    const first = await startOwn({ ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
    const account = await store.collection('users').findOne({ email });
    const id = String(account?._id);
    // Another ADMIN takes the role away (the audited change), then that ADMIN's account is gone from the store.
    await startOwn();
    const admin = await login(first, TEST_ADMIN.email, TEST_ADMIN.password);
    const demoted = await call(first, 'PATCH', `/users/${id}/roles`, {
      token: admin.body.accessToken as string,
      body: { roles: ['USER'] },
    });
    expect(demoted.status).toBe(200);
    await store.collection('users').deleteOne({ email: TEST_ADMIN.email });
    const versionAfterDemotion = (await store.collection('users').findOne({ email }))?.accessVersion as number;

    // The next start gives it back (ADMIN_PASSWORD is still its password, no account is ADMIN): not silently.
    await startOwn({ ADMIN_EMAIL: email, ADMIN_PASSWORD: password });
    const after = await store.collection('users').findOne({ email });
    expect(after?.roles).toEqual(['USER', 'ADMIN']);
    expect(after?.accessVersion).toBe(versionAfterDemotion + 1);
    const audit = await store
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
    const notices = await store.collection('outbox').find({ kind: 'ACCESS', 'payload.userId': id }).toArray();
    expect(notices.map((row) => (row.payload as { accessVersion: number }).accessVersion)).toContain(after?.accessVersion);
  });

  it('several instances promoting the same account at once grant it once, with one audit row', async () => {
    const { store, start: startOwn } = await platformWithoutAdmin('bootstrap_parallel');
    const email = 'parallel-promotion@example.com';
    const user = await register(await startOwn(), { email, password: 'the-parallel-password' });
    expect(user.status).toBe(201);
    await store.collection('users').deleteOne({ email: TEST_ADMIN.email });
    await Promise.all([1, 2, 3].map(() => startOwn({ ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the-parallel-password' })));
    expect((await store.collection('users').findOne({ email }))?.roles).toEqual(['USER', 'ADMIN']);
    const audit = await store
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
