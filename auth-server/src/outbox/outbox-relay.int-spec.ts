import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import {
  call,
  login,
  openTestDatabase,
  register,
  signedInAdmin,
  signedInUser,
  startTestApp,
  testConfig,
} from '../testing/auth-test-app.js';
import { FakeEventServer } from '../testing/fake-event-server.js';
import { OutboxRelay } from './outbox-relay.service.js';

interface OutboxRow {
  _id: { toHexString(): string };
  kind: string;
  payload: { userId?: string; externalId: string };
  attempts: number;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  failedAt: Date | null;
  lastError: string | null;
}

const WAIT = { timeout: 10_000, interval: 20 };
const FAST_RELAY = {
  OUTBOX_ENABLED: 'true',
  OUTBOX_RELAY_INTERVAL_MS: '50',
  OUTBOX_RETRY_BASE_MS: '20',
  OUTBOX_RETRY_MAX_MS: '200',
};

const apps: NestFastifyApplication[] = [];
const connections: mongoose.Connection[] = [];
const receivers: FakeEventServer[] = [];

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await Promise.all(receivers.map((receiver) => receiver.stop()));
  for (const db of connections) {
    await db.dropDatabase();
    await db.close();
  }
});

/** The auth server listening (the receiver fetches its JWKS) and relaying to `receiver`. */
async function startAuth(
  label: string,
  receiver: FakeEventServer,
  env: Record<string, string> = FAST_RELAY,
): Promise<{ app: NestFastifyApplication; db: mongoose.Connection }> {
  const dbName = testDatabaseName(label);
  const app = await startTestApp(testConfig(dbName, { ...env, EVENT_SERVICE_URL: receiver.url }));
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  receiver.trustJwks(`${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/.well-known/jwks.json`);
  const db = await openTestDatabase(dbName);
  connections.push(db);
  return { app, db };
}

async function startReceiver(): Promise<FakeEventServer> {
  const receiver = new FakeEventServer();
  receivers.push(receiver);
  await receiver.start();
  return receiver;
}

const outboxRows = (db: mongoose.Connection, filter: Record<string, unknown> = {}): Promise<OutboxRow[]> =>
  db.collection<OutboxRow>('outbox').find(filter).toArray() as Promise<OutboxRow[]>;

async function loginRowsOf(db: mongoose.Connection, userId: string): Promise<OutboxRow[]> {
  return outboxRows(db, { kind: 'ACTIVITY', 'payload.userId': userId, 'payload.type': 'LOGIN' });
}

describe('outbox relay to the event server', () => {
  let receiver: FakeEventServer;
  let app: NestFastifyApplication;
  let db: mongoose.Connection;

  beforeAll(async () => {
    receiver = await startReceiver();
    ({ app, db } = await startAuth('outbox', receiver));
  });

  beforeEach(() => {
    receiver.refuseActivity = () => false;
    receiver.failAfterStoring = 0;
  });

  it('delivers a LOGIN for the user, keyed by its outbox row, with a service token the receiver verifies', async () => {
    const user = await signedInUser(app);
    const [row] = await loginRowsOf(db, user.id);
    expect(row).toBeDefined();
    const externalId = `auth:LOGIN:${row!._id.toHexString()}`;
    await vi.waitFor(() => expect(receiver.activities.get(externalId)).toBeDefined(), WAIT);
    expect(receiver.activities.get(externalId)).toMatchObject({ userId: user.id, type: 'LOGIN', externalId });
    expect(receiver.activities.get(externalId)!.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await vi.waitFor(async () => expect((await loginRowsOf(db, user.id))[0]!.deliveredAt).toBeInstanceOf(Date), WAIT);
    expect(receiver.rejectedTokens).toEqual([]);
  });

  it('delivers a FRIEND_INVITE for the referral code owner when somebody registers with the code', async () => {
    const owner = await register(app);
    const friend = await register(app, { referralCode: owner.body.referralCode as string });
    expect(friend.status).toBe(201);
    const externalId = `auth:FRIEND_INVITE:${friend.body.id as string}`;
    await vi.waitFor(() => expect(receiver.activities.get(externalId)).toBeDefined(), WAIT);
    expect(receiver.activities.get(externalId)).toMatchObject({
      userId: owner.body.id,
      type: 'FRIEND_INVITE',
      attributes: { invitedUserId: friend.body.id },
    });
    // A registration without a code reports nothing.
    expect(await outboxRows(db, { 'payload.attributes.invitedUserId': owner.body.id })).toEqual([]);
  });

  it("reports an ADMIN's role change as an audit entry with the roles before and after", async () => {
    const admin = await signedInAdmin(app);
    const adminId = (await call(app, 'GET', '/users/me', { token: admin.accessToken })).body.id as string;
    const target = await register(app);
    const targetId = target.body.id as string;
    const changed = await call(app, 'PATCH', `/users/${targetId}/roles`, {
      token: admin.accessToken,
      body: { roles: ['USER', 'OPERATOR'] },
    });
    expect(changed.status).toBe(200);
    await vi.waitFor(
      () => expect([...receiver.auditEntries.values()].some((entry) => entry.targetId === targetId)).toBe(true),
      WAIT,
    );
    const entry = [...receiver.auditEntries.values()].find((candidate) => candidate.targetId === targetId)!;
    expect(entry).toMatchObject({
      actorId: adminId,
      action: 'USER_ROLES_CHANGED',
      targetType: 'USER',
      changes: { roles: { before: ['USER'], after: ['USER', 'OPERATOR'] } },
    });
    expect(entry.externalId).toMatch(/^auth:USER_ROLES_CHANGED:[0-9a-f]{24}$/);
    // The new access version reaches the event server too (staff writes from older tokens stop there).
    await vi.waitFor(() => expect(receiver.accessVersions.get(`${targetId}:1`)).toBeDefined(), WAIT);
    expect(receiver.accessVersions.get(`${targetId}:1`)).toMatchObject({ userId: targetId, reason: 'ROLES_CHANGED' });
    // The same roles again change nothing and report nothing.
    const again = await call(app, 'PATCH', `/users/${targetId}/roles`, {
      token: admin.accessToken,
      body: { roles: ['OPERATOR', 'USER'] },
    });
    expect(again.status).toBe(200);
    expect(await outboxRows(db, { kind: 'AUDIT', 'payload.targetId': targetId })).toHaveLength(1);
    expect(await outboxRows(db, { kind: 'ACCESS', 'payload.userId': targetId })).toHaveLength(1);
  });

  it('delivers "log out everywhere" as a new access version for the user', async () => {
    const user = await signedInUser(app);
    expect((await call(app, 'POST', `/users/${user.id}/logout-all`, { token: user.accessToken })).status).toBe(204);
    await vi.waitFor(() => expect(receiver.accessVersions.get(`${user.id}:1`)).toBeDefined(), WAIT);
    expect(receiver.accessVersions.get(`${user.id}:1`)).toMatchObject({ reason: 'LOGGED_OUT_EVERYWHERE' });
    await vi.waitFor(
      async () =>
        expect((await outboxRows(db, { kind: 'ACCESS', 'payload.userId': user.id }))[0]?.deliveredAt).toBeInstanceOf(Date),
      WAIT,
    );
  });

  it('answers logins while the event server is down (they wait in the outbox), and delivers each of them exactly once when it is back', async () => {
    const user = await signedInUser(app);
    await vi.waitFor(async () => expect((await loginRowsOf(db, user.id))[0]!.deliveredAt).toBeInstanceOf(Date), WAIT);
    await receiver.stop();

    for (let index = 0; index < 5; index += 1) {
      const session = await login(app, user.email, user.password);
      expect(session.status).toBe(200);
    }
    const rows = await loginRowsOf(db, user.id);
    expect(rows).toHaveLength(6);
    const downIds = rows.filter((row) => row.deliveredAt === null).map((row) => row.payload.externalId);
    expect(downIds).toHaveLength(5);
    // The relay did try (and failed) while the server was down: the rows carry attempts and the error.
    await vi.waitFor(async () => {
      const pending = await loginRowsOf(db, user.id);
      expect(pending.filter((row) => row.attempts > 0 && row.lastError !== null)).toHaveLength(5);
    }, WAIT);

    await receiver.start();
    await vi.waitFor(() => expect(downIds.every((id) => receiver.activities.has(id))).toBe(true), WAIT);
    await vi.waitFor(async () => {
      expect((await loginRowsOf(db, user.id)).every((row) => row.deliveredAt instanceof Date)).toBe(true);
    }, WAIT);
    expect(downIds.map((id) => receiver.sendsOf(id))).toEqual([1, 1, 1, 1, 1]);
  });

  it('redelivers after a 500 that came after the receiver stored the batch, without a duplicate there', async () => {
    receiver.failAfterStoring = 1;
    const user = await signedInUser(app);
    const [row] = await loginRowsOf(db, user.id);
    const externalId = row!.payload.externalId;
    await vi.waitFor(async () => expect((await loginRowsOf(db, user.id))[0]!.deliveredAt).toBeInstanceOf(Date), WAIT);
    expect(receiver.sendsOf(externalId)).toBe(2);
    expect([...receiver.activities.keys()].filter((id) => id === externalId)).toHaveLength(1);
    const [delivered] = await loginRowsOf(db, user.id);
    expect(delivered!.attempts).toBe(1);
    expect(delivered!.lastError).toMatch(/^HTTP 500/);
  });

  it('marks a message the receiver refuses with a 400 as failed and does not retry it', async () => {
    const refused = await register(app);
    receiver.refuseActivity = (item) => item.userId === refused.body.id;
    const session = await login(app, refused.email, refused.password);
    expect(session.status).toBe(200);
    await vi.waitFor(
      async () => expect((await loginRowsOf(db, refused.body.id as string))[0]!.failedAt).toBeInstanceOf(Date),
      WAIT,
    );
    const [failed] = await loginRowsOf(db, refused.body.id as string);
    expect(failed!.lastError).toMatch(/^HTTP 400: .*VALIDATION_FAILED/);
    expect(failed!.deliveredAt).toBeNull();

    // Later polls deliver other messages and leave the failed one alone.
    const other = await signedInUser(app);
    await vi.waitFor(async () => expect((await loginRowsOf(db, other.id))[0]!.deliveredAt).toBeInstanceOf(Date), WAIT);
    const otherId = (await loginRowsOf(db, other.id))[0]!.payload.externalId;
    await vi.waitFor(() => expect(receiver.activities.has(otherId)).toBe(true), WAIT);
    expect(receiver.sendsOf(failed!.payload.externalId)).toBe(1);
    expect(receiver.activities.has(failed!.payload.externalId)).toBe(false);
  });
});

describe('outbox relay, driven one poll at a time', () => {
  let receiver: FakeEventServer;
  let app: NestFastifyApplication;
  let db: mongoose.Connection;
  let relay: OutboxRelay;

  beforeAll(async () => {
    receiver = await startReceiver();
    ({ app, db } = await startAuth('outbox_manual', receiver, { OUTBOX_ENABLED: 'false' }));
    relay = app.get(OutboxRelay);
  });

  it('sends due activities in one request, and on a 400 finds the bad one by sending them one by one', async () => {
    const good = await signedInUser(app);
    const bad = await signedInUser(app);
    await relay.runOnce();
    receiver.requests.length = 0;
    await login(app, good.email, good.password);
    await login(app, bad.email, bad.password);
    await login(app, good.email, good.password);
    receiver.refuseActivity = (item) => item.userId === bad.id;

    const summary = await relay.runOnce();

    expect(summary).toEqual({ taken: 3, delivered: 2, retried: 0, failed: 1 });
    expect(receiver.requests.map((request) => [request.status, request.items])).toEqual([
      [400, 3],
      [201, 1],
      [400, 1],
      [201, 1],
    ]);
    expect(await relay.runOnce()).toEqual({ taken: 0, delivered: 0, retried: 0, failed: 0 });
  });

  it('does not let a second relay take a row another relay is delivering; the row is not lost when that delivery fails', async () => {
    const user = await signedInUser(app);
    const [row] = await loginRowsOf(db, user.id);
    const externalId = row!.payload.externalId;
    const second = await startTestApp(testConfig(db.name, { OUTBOX_ENABLED: 'false', EVENT_SERVICE_URL: receiver.url }));
    apps.push(second);
    const otherRelay = second.get(OutboxRelay);

    receiver.hang = true;
    const inFlight = relay.runOnce();
    await vi.waitFor(() => expect(receiver.hanging).toBe(1), WAIT);
    expect(await otherRelay.runOnce()).toEqual({ taken: 0, delivered: 0, retried: 0, failed: 0 });

    // The receiver goes away mid-request: the first relay schedules a retry instead of dropping the row.
    receiver.hang = false;
    await receiver.stop();
    expect(await inFlight).toEqual({ taken: 1, delivered: 0, retried: 1, failed: 0 });
    await receiver.start();

    const afterBackoff = new Date(Date.now() + 60_000);
    expect(await otherRelay.runOnce(afterBackoff)).toEqual({ taken: 1, delivered: 1, retried: 0, failed: 0 });
    expect(receiver.sendsOf(externalId)).toBe(1);
    expect((await loginRowsOf(db, user.id))[0]).toMatchObject({ attempts: 1, failedAt: null });
  });

  it('stops promptly on shutdown with a delivery in flight and gives the rows back without counting an attempt', async () => {
    const hanging = await startReceiver();
    hanging.hang = true;
    const { app: stopping, db: stoppingDb } = await startAuth('outbox_stop', hanging);
    const user = await signedInUser(stopping);
    await vi.waitFor(() => expect(hanging.hanging).toBeGreaterThan(0), WAIT);

    const started = performance.now();
    await stopping.close();
    expect(performance.now() - started).toBeLessThan(2_000);

    const [row] = await loginRowsOf(stoppingDb, user.id);
    expect(row).toMatchObject({ attempts: 0, deliveredAt: null, failedAt: null });
    expect(row!.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('outbox relay nudged by each new row', () => {
  let receiver: FakeEventServer;
  let app: NestFastifyApplication;
  let db: mongoose.Connection;

  beforeAll(async () => {
    receiver = await startReceiver();
    ({ app, db } = await startAuth('outbox-nudge', receiver, { ...FAST_RELAY, OUTBOX_RELAY_INTERVAL_MS: '60000' }));
  });

  it('delivers a LOGIN at once, not at the next poll: the write nudges the relay (interval a minute here)', async () => {
    // The first poll runs at start; after it the relay would wait a minute.
    for (let round = 0; round < 3; round++) {
      const user = await signedInUser(app);
      const [row] = await loginRowsOf(db, user.id);
      const externalId = `auth:LOGIN:${row!._id.toHexString()}`;
      await vi.waitFor(() => expect(receiver.activities.get(externalId)).toMatchObject({ userId: user.id }), WAIT);
    }
  });
});

describe('outbox relay: the first poll', () => {
  it('waits until the auth server listens (the event server fetches the keys for its tokens there)', async () => {
    const receiver = await startReceiver();
    const dbName = testDatabaseName('outbox_first_poll');
    const app = await startTestApp(testConfig(dbName, { ...FAST_RELAY, EVENT_SERVICE_URL: receiver.url }));
    apps.push(app);
    const db = await openTestDatabase(dbName);
    connections.push(db);
    // Initialised, not listening: a sign-in's LOGIN is stored and waits, no poll begun.
    const user = await signedInUser(app);
    const relay = app.get(OutboxRelay);
    expect(relay.started).toBe(false);
    expect(await loginRowsOf(db, user.id)).toHaveLength(1);

    await app.listen({ host: '127.0.0.1', port: 0 });
    expect(relay.started).toBe(true);
    receiver.trustJwks(`${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/.well-known/jwks.json`);
    const [row] = await loginRowsOf(db, user.id);
    await vi.waitFor(() => expect(receiver.activities.get(`auth:LOGIN:${row!._id.toHexString()}`)).toBeDefined(), WAIT);
    expect(receiver.rejectedTokens).toEqual([]);
  });
});
