import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { OutboxService } from './outbox.service.js';
import { call, login, openTestDatabase, register, signedInAdmin, startTestApp, testConfig } from '../testing/auth-test-app.js';

/**
 * The request path's half of "never lost": the outbox row is written before the answer, and a request
 * whose row cannot be written fails instead of answering success. The failure is provoked on the real
 * database with an extra unique index that refuses every further outbox insert.
 */
describe('outbox rows in the request path', () => {
  const dbName = testDatabaseName('outbox_write');
  let app: NestFastifyApplication;
  let db: mongoose.Connection;

  beforeAll(async () => {
    app = await startTestApp(testConfig(dbName));
    db = await openTestDatabase(dbName);
  });

  afterAll(async () => {
    await app.close();
    await db.dropDatabase();
    await db.close();
  });

  const outbox = (): mongoose.mongo.Collection => db.collection('outbox');

  /** Every new row has `attempts: 0`; a unique index over it admits one such row, and one is there. */
  async function refuseOutboxInserts(): Promise<void> {
    await outbox().deleteMany({});
    await outbox().insertOne({ kind: 'ACTIVITY', attempts: 0, placeholder: true });
    await outbox().createIndex({ attempts: 1 }, { unique: true, name: 'test_blocker' });
  }

  async function acceptOutboxInserts(): Promise<void> {
    await outbox().dropIndex('test_blocker');
    await outbox().deleteMany({ placeholder: true });
  }

  it('has the LOGIN row, due at once and undelivered, by the time the login is answered', async () => {
    const user = await register(app);
    const session = await login(app, user.email, user.password);
    expect(session.status).toBe(200);
    const rows = await outbox().find({ 'payload.userId': user.body.id, 'payload.type': 'LOGIN' }).toArray();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'ACTIVITY', attempts: 0, deliveredAt: null, failedAt: null });
    expect((rows[0]!.nextAttemptAt as Date).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('fails the login, the referral sign-up and the role change when their row cannot be written', async () => {
    const owner = await register(app);
    const target = await register(app);
    const admin = await signedInAdmin(app);
    await refuseOutboxInserts();
    try {
      expect((await login(app, owner.email, owner.password)).status).toBe(500);

      const friendEmail = `friend-${Date.now()}@example.com`;
      const signUp = await register(app, { email: friendEmail, referralCode: owner.body.referralCode as string });
      expect(signUp.status).toBe(500);
      // The account went with it, so the sign-up can be retried.
      expect(await db.collection('users').countDocuments({ email: friendEmail })).toBe(0);

      const change = await call(app, 'PATCH', `/users/${target.body.id as string}/roles`, {
        token: admin.accessToken,
        body: { roles: ['AUDITOR'] },
      });
      expect(change.status).toBe(500);
      // No unaudited change stands.
      const stored = await db.collection('users').findOne({ email: target.email });
      expect(stored!.roles).toEqual(['USER']);
    } finally {
      await acceptOutboxInserts();
    }

    const retried = await register(app, { referralCode: owner.body.referralCode as string });
    expect(retried.status).toBe(201);
    expect(await outbox().countDocuments({ 'payload.externalId': `auth:FRIEND_INVITE:${retried.body.id as string}` })).toBe(1);
  });

  it('leaves no audit entry for a role change put back because its access notice could not be written', async () => {
    const target = await register(app);
    const admin = await signedInAdmin(app);
    const outboxService = app.get(OutboxService);
    // The role change's rows are written one after the other: the store failing between them (the audit entry
    // written, the access notice not) must not leave the audit log saying the user was given a role they lack.
    const spy = vi
      .spyOn(outboxService, 'enqueueAccessVersion')
      .mockRejectedValueOnce(Object.assign(new Error('the store went away'), { name: 'MongoNetworkError' }));
    try {
      const change = await call(app, 'PATCH', `/users/${target.body.id as string}/roles`, {
        token: admin.accessToken,
        body: { roles: ['ADMIN'] },
      });
      expect(change.status).toBeGreaterThanOrEqual(500);
    } finally {
      spy.mockRestore();
    }
    expect((await db.collection('users').findOne({ email: target.email }))!.roles).toEqual(['USER']);
    expect(await outbox().countDocuments({ kind: 'AUDIT', 'payload.targetId': target.body.id as string })).toBe(0);
  });
});
