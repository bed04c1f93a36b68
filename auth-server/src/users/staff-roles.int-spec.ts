import { setTimeout as sleep } from 'node:timers/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Types, type default as mongoose } from 'mongoose';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { LATE_WAIT_MESSAGE } from '@reward/server-kit/lease-mutex';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { pastStartByWhileWaiting } from '../../../test-support/past-start-by.js';
import { RoleChangeLockRepository } from '../role-lock/role-change-lock.repository.js';
import { UsersService } from './users.service.js';
import {
  type Reply,
  TEST_ADMIN,
  call,
  login,
  openTestDatabase,
  signedInAdmin,
  signedInUser,
  startTestApp,
  testConfig,
} from '../testing/auth-test-app.js';

// Against the test store (FerretDB in CI), whose conditional updates are not atomic: what holds here holds
// because of the role-change mutex's unique insert, not because of update atomicity.
const dbName = testDatabaseName('staff_roles');
let app: NestFastifyApplication;
let db: mongoose.Connection;
let root: { accessToken: string; refreshToken: string };

beforeAll(async () => {
  app = await startTestApp(testConfig(dbName));
  db = await openTestDatabase(dbName);
  root = await signedInAdmin(app);
});

afterAll(async () => {
  await app?.close();
  await db?.dropDatabase();
  await db?.close();
});

type Session = Awaited<ReturnType<typeof signedInUser>>;

const adminCount = (): Promise<number> => db.collection('users').countDocuments({ roles: 'ADMIN' });
const rootId = async (): Promise<string> => String((await db.collection('users').findOne({ email: TEST_ADMIN.email }))?._id);
const setRoles = (token: string, id: string, roles: string[]) =>
  call(app, 'PATCH', `/users/${id}/roles`, { token, body: { roles } });
const audits = async (targetId: string) =>
  (await db.collection('outbox').find({ kind: 'AUDIT', 'payload.targetId': targetId }).toArray()).map((row) => row.payload);
const accessNotices = (userId: string) => db.collection('outbox').find({ kind: 'ACCESS', 'payload.userId': userId }).toArray();

/** A fresh user promoted to ADMIN by `by`, signed in again so the token carries ADMIN and the new version. */
async function newAdmin(by: string): Promise<Session> {
  const user = await signedInUser(app);
  expect((await setRoles(by, user.id, ['ADMIN'])).status).toBe(200);
  const session = await login(app, user.email, user.password);
  return { ...user, accessToken: session.body.accessToken as string, refreshToken: session.body.refreshToken as string };
}

describe('the last ADMIN', () => {
  it('cannot demote themselves: 409 LAST_ADMIN, roles unchanged', async () => {
    expect(await adminCount()).toBe(1);
    // The only rows so far: the admin account's creation at boot (audited as roles [] to [ADMIN]).
    const rows = async () =>
      (await db.collection('outbox').countDocuments({ kind: 'AUDIT' })) + (await accessNotices(await rootId())).length;
    expect(await rows()).toBe(1);
    const reply = await setRoles(root.accessToken, await rootId(), ['USER']);
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ statusCode: 409, code: 'LAST_ADMIN' });
    expect(await adminCount()).toBe(1);
    expect(await rows()).toBe(1);
  });

  it('two admins demoting each other at the same moment leave exactly one ADMIN (repeated rounds)', async () => {
    let pair = [await newAdmin(root.accessToken), await newAdmin(root.accessToken)] as const;
    expect((await setRoles(pair[0].accessToken, await rootId(), ['USER'])).status).toBe(200);
    for (let round = 0; round < 4; round += 1) {
      expect(await adminCount()).toBe(2);
      const [a, b] = pair;
      const replies = await Promise.all([setRoles(a.accessToken, b.id, ['USER']), setRoles(b.accessToken, a.id, ['USER'])]);
      const [won, lost] = [...replies].sort((x, y) => x.status - y.status);
      // The second change sees the first: its actor's token is older than their demotion (401
      // STALE_ACCESS_TOKEN), or the actor is no ADMIN any more (403), or the target is the last one (409).
      expect(won!.status).toBe(200);
      expect([
        [401, 'STALE_ACCESS_TOKEN'],
        [403, 'FORBIDDEN'],
        [409, 'LAST_ADMIN'],
      ]).toContainEqual([lost!.status, lost!.body.code]);
      expect(await adminCount()).toBe(1);
      const survivor = replies[0].status === 200 ? a : b;
      pair = [await newAdmin(survivor.accessToken), await newAdmin(survivor.accessToken)] as const;
      expect((await setRoles(pair[0].accessToken, survivor.id, ['USER'])).status).toBe(200);
    }
  });

  it('five admins each demoting themselves at once leave exactly one', async () => {
    const admins = [] as Session[];
    for (let i = 0; i < 5; i += 1) admins.push(await newAdmin(await adminToken()));
    // Only these five are ADMIN now.
    const ids = admins.map((admin) => new Types.ObjectId(admin.id));
    await db.collection('users').updateMany({ roles: 'ADMIN', _id: { $nin: ids } }, { $set: { roles: ['USER'] } });
    expect(await adminCount()).toBe(5);
    const replies = await Promise.all(admins.map((admin) => setRoles(admin.accessToken, admin.id, ['USER'])));
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(4);
    expect(replies.filter((reply) => reply.status === 409).map((reply) => reply.body.code)).toEqual(['LAST_ADMIN']);
    expect(await adminCount()).toBe(1);
  });

  it('a lease left by a crashed holder expires and is taken over; a held one makes the change wait', async () => {
    const admin = await newAdmin(await adminToken());
    const user = await signedInUser(app);
    const locks = db.collection<{ _id: string; holder: string; expiresAt: Date }>('role_change_locks');
    await locks.insertOne({ _id: 'admin-roles', holder: 'crashed', expiresAt: new Date(Date.now() - 1000) });
    expect((await setRoles(admin.accessToken, user.id, ['OPERATOR'])).status).toBe(200);
    expect(await locks.countDocuments()).toBe(0);

    await locks.insertOne({ _id: 'admin-roles', holder: 'busy', expiresAt: new Date(Date.now() + 60_000) });
    const pending = setRoles(admin.accessToken, user.id, ['AUDITOR']);
    await vi.waitFor(async () => expect(await locks.countDocuments({ holder: 'busy' })).toBe(1));
    expect((await db.collection('users').findOne({ email: user.email }))?.roles).toEqual(['OPERATOR']);
    await locks.deleteOne({ _id: 'admin-roles', holder: 'busy' });
    expect((await pending).status).toBe(200);
    expect((await db.collection('users').findOne({ email: user.email }))?.roles).toEqual(['AUDITOR']);
  });

  it('a change whose start-by time passes while it waits for a held lease is 503 and changes nothing', async () => {
    const admin = await newAdmin(await adminToken());
    const user = await signedInUser(app);
    const locks = db.collection<{ _id: string; holder: string; expiresAt: Date }>('role_change_locks');
    await locks.insertOne({ _id: 'admin-roles', holder: 'busy', expiresAt: new Date(Date.now() + 60_000) });
    const leases = app.get(RoleChangeLockRepository);
    const tryInsert = leases.tryInsert.bind(leases);
    let refused = 0;
    const spy = vi.spyOn(leases, 'tryInsert').mockImplementation(async (key, lease) => {
      const won = await tryInsert(key, lease);
      if (!won && key === 'admin-roles') refused++;
      return won;
    });
    // Sent as the gateway sends it (to be started within 1.5 s, half its timeout), seen waiting for the lease, which
    // is let go once its time has passed: a change that went on now would be made after the client's 504.
    const reply = await pastStartByWhileWaiting(
      () => refused,
      (headers) =>
        call(app, 'PATCH', `/users/${user.id}/roles`, { token: admin.accessToken, body: { roles: ['OPERATOR'] }, headers }),
      async () => {
        spy.mockRestore();
        await locks.deleteOne({ _id: 'admin-roles', holder: 'busy' });
      },
    );
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(reply.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1, message: LATE_WAIT_MESSAGE });
    expect((await db.collection('users').findOne({ email: user.email }))?.roles).toEqual(['USER']);
    expect(await audits(user.id)).toEqual([]);
    expect(await locks.countDocuments()).toBe(0);
  });
});

/** A token of a fresh ADMIN, promoted directly in the store (whoever the tests above left as ADMIN). */
async function adminToken(): Promise<string> {
  const user = await signedInUser(app);
  await db.collection('users').updateOne({ email: user.email }, { $set: { roles: ['ADMIN'] } });
  return (await login(app, user.email, user.password)).body.accessToken as string;
}

describe("staff routes follow the caller's current roles", () => {
  it('a demoted ADMIN is refused at the next request, whatever the token says', async () => {
    const demoted = await newAdmin(await adminToken());
    expect((await call(app, 'GET', '/users', { token: demoted.accessToken })).status).toBe(200);
    expect((await setRoles(await adminToken(), demoted.id, ['USER'])).status).toBe(200);
    const list = await call(app, 'GET', '/users', { token: demoted.accessToken });
    expect(list.status).toBe(401);
    expect(list.body.code).toBe('STALE_ACCESS_TOKEN');
    // Re-promoting themselves with the old token is refused too, and changes nothing.
    const again = await setRoles(demoted.accessToken, demoted.id, ['ADMIN']);
    expect(again.status).toBe(401);
    expect((await db.collection('users').findOne({ email: demoted.email }))?.roles).toEqual(['USER']);
    // A fresh token carries the new roles: 403.
    const fresh = await login(app, demoted.email, demoted.password);
    expect((await call(app, 'GET', '/users', { token: fresh.body.accessToken as string })).status).toBe(403);
  });

  it('a deleted ADMIN is refused', async () => {
    const gone = await newAdmin(await adminToken());
    await db.collection('users').deleteOne({ email: gone.email });
    const reply = await call(app, 'GET', '/users', { token: gone.accessToken });
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
  });

  it('a role change bumps the access version in new tokens and relays it through the outbox', async () => {
    const user = await signedInUser(app);
    const before = decode(user.accessToken).av as number;
    expect((await setRoles(await adminToken(), user.id, ['OPERATOR'])).status).toBe(200);
    const after = decode((await login(app, user.email, user.password)).body.accessToken as string).av as number;
    expect(after).toBe(before + 1);
    expect((await accessNotices(user.id)).map((row) => row.payload)).toEqual([
      expect.objectContaining({ userId: user.id, accessVersion: after, reason: 'ROLES_CHANGED' }),
    ]);
  });
});

describe('POST /users/:id/logout-all', () => {
  it('by the user: every refresh token stops working, and the new version is relayed', async () => {
    const user = await signedInUser(app);
    const second = await login(app, user.email, user.password);
    const reply = await call(app, 'POST', `/users/${user.id}/logout-all`, { token: user.accessToken });
    expect(reply.status).toBe(204);
    // Their own sessions: not a staff change, nothing to audit.
    expect(await audits(user.id)).toEqual([]);
    for (const refreshToken of [user.refreshToken, second.body.refreshToken as string]) {
      const refreshed = await call(app, 'POST', '/auth/refresh', { body: { refreshToken } });
      expect(refreshed.status).toBe(401);
      expect(refreshed.body.code).toBe('INVALID_REFRESH_TOKEN');
    }
    const notices = await accessNotices(user.id);
    expect(notices.map((row) => row.payload)).toEqual([
      expect.objectContaining({ userId: user.id, accessVersion: 1, reason: 'LOGGED_OUT_EVERYWHERE' }),
    ]);
    // A new login works and carries the new version.
    const fresh = await login(app, user.email, user.password);
    expect(fresh.status).toBe(200);
    expect(decode(fresh.body.accessToken as string).av).toBe(1);
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: fresh.body.refreshToken } })).status).toBe(200);
  });

  it('by an ADMIN on another user: 204; by a USER on another user: 403 and nothing changes', async () => {
    const user = await signedInUser(app);
    const other = await signedInUser(app);
    const refused = await call(app, 'POST', `/users/${user.id}/logout-all`, { token: other.accessToken });
    expect(refused.status).toBe(403);
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(200);
    expect(await audits(user.id)).toEqual([]);
    const admin = await adminToken();
    const done = await call(app, 'POST', `/users/${other.id}/logout-all`, { token: admin });
    expect(done.status).toBe(204);
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(401);
    // A staff change: audited with who did it and the access version that made the user's tokens stale.
    expect(await audits(other.id)).toEqual([
      expect.objectContaining({
        actorId: decode(admin).sub,
        action: 'USER_LOGGED_OUT_EVERYWHERE',
        targetType: 'USER',
        targetId: other.id,
        changes: { accessVersion: { before: 0, after: 1 } },
        externalId: expect.stringMatching(/^auth:USER_LOGGED_OUT_EVERYWHERE:/),
      }),
    ]);
  });

  it('takes no body but {}: a field is a 400 VALIDATION_FAILED (whitelist, as on every route) and nothing is logged out', async () => {
    const user = await signedInUser(app);
    const refused = await call(app, 'POST', `/users/${user.id}/logout-all`, {
      token: user.accessToken,
      body: { keepThisDevice: true },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', message: ['property keepThisDevice should not exist'] });
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(200);
    expect(await accessNotices(user.id)).toHaveLength(0);
    expect((await call(app, 'POST', `/users/${user.id}/logout-all`, { token: user.accessToken, body: {} })).status).toBe(204);
  });

  it('refuses a token made stale by an earlier logout-all with 401 STALE_ACCESS_TOKEN, for the user themselves', async () => {
    const user = await signedInUser(app);
    expect((await call(app, 'POST', `/users/${user.id}/logout-all`, { token: user.accessToken })).status).toBe(204);
    const fresh = await login(app, user.email, user.password);
    const again = await call(app, 'POST', `/users/${user.id}/logout-all`, { token: user.accessToken });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ statusCode: 401, code: 'STALE_ACCESS_TOKEN' });
    // Nothing happened: the session opened since still works, and no second version was relayed.
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: fresh.body.refreshToken } })).status).toBe(200);
    expect(await accessNotices(user.id)).toHaveLength(1);
  });

  it("refuses a stale ADMIN token on another user's sessions with 401 STALE_ACCESS_TOKEN, and changes nothing", async () => {
    const admin = await newAdmin(await adminToken());
    const victim = await signedInUser(app);
    expect((await call(app, 'POST', `/users/${admin.id}/logout-all`, { token: admin.accessToken })).status).toBe(204);
    const reply = await call(app, 'POST', `/users/${victim.id}/logout-all`, { token: admin.accessToken });
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ statusCode: 401, code: 'STALE_ACCESS_TOKEN' });
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: victim.refreshToken } })).status).toBe(200);
    expect(await accessNotices(victim.id)).toHaveLength(0);
    // The same ADMIN signed in again may.
    const fresh = await login(app, admin.email, admin.password);
    const done = await call(app, 'POST', `/users/${victim.id}/logout-all`, { token: fresh.body.accessToken as string });
    expect(done.status).toBe(204);
  });

  it("racing a demotion, the user's own logout-all does not undo it (repeated rounds)", async () => {
    // On the test store an update writes the whole document back: a bump of the session version that read the
    // user before the demotion was written would write the old roles back over it.
    const admin = await adminToken();
    const user = await signedInUser(app);
    for (let round = 0; round < 8; round += 1) {
      expect((await setRoles(admin, user.id, ['OPERATOR'])).status).toBe(200);
      const token = (await login(app, user.email, user.password)).body.accessToken as string;
      const demotion = setRoles(admin, user.id, ['USER']);
      const logouts: Array<Promise<unknown>> = [];
      for (let delay = 0; delay < 16; delay += 2) {
        logouts.push(sleep(delay).then(() => call(app, 'POST', `/users/${user.id}/logout-all`, { token })));
      }
      const [demoted] = await Promise.all([demotion, ...logouts]);
      expect((demoted as Reply).status).toBe(200);
      expect((await db.collection('users').findOne({ email: user.email }))?.roles, `round ${round}`).toEqual(['USER']);
    }
  });

  it('is 400 for a malformed id, 404 for an unknown one, 401 without a token', async () => {
    const token = await adminToken();
    expect((await call(app, 'POST', '/users/nope/logout-all', { token })).status).toBe(400);
    const unknown = await call(app, 'POST', '/users/0123456789abcdef01234567/logout-all', { token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('USER_NOT_FOUND');
    expect((await call(app, 'POST', '/users/0123456789abcdef01234567/logout-all')).status).toBe(401);
  });
});

describe("a staff member's logout, and a user's own writes beside role changes", () => {
  it('a staff logout ends the staff powers of the access tokens issued before it; other sessions refresh on', async () => {
    const admin = await newAdmin(await adminToken());
    const other = await login(app, admin.email, admin.password);
    const version = decode(other.body.accessToken as string).av as number;
    expect((await call(app, 'GET', '/users', { token: admin.accessToken })).status).toBe(200);

    const out = await call(app, 'POST', '/auth/logout', { token: admin.accessToken, body: { refreshToken: admin.refreshToken } });
    expect(out.status).toBe(204);
    // The token used to log out, and the other session's access token, no longer make staff requests...
    for (const token of [admin.accessToken, other.body.accessToken as string]) {
      const refused = await call(app, 'GET', '/users', { token });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('STALE_ACCESS_TOKEN');
    }
    expect((await setRoles(admin.accessToken, admin.id, ['USER'])).status).toBe(401);
    // ...the event server is told (the new version, through the outbox)...
    expect((await accessNotices(admin.id)).map((row) => row.payload)).toContainEqual(
      expect.objectContaining({ userId: admin.id, accessVersion: version + 1, reason: 'LOGGED_OUT' }),
    );
    // ...the logged-out session is over, and the other one refreshes into a token that works.
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: admin.refreshToken } })).status).toBe(401);
    const refreshed = await call(app, 'POST', '/auth/refresh', { body: { refreshToken: other.body.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(decode(refreshed.body.accessToken as string).av).toBe(version + 1);
    expect((await call(app, 'GET', '/users', { token: refreshed.body.accessToken as string })).status).toBe(200);
  });

  /** A new ADMIN whose refresh token a thief refreshed with first: the owner's next refresh finds it used. */
  async function staffRobbedOfRefresh() {
    const staff = await newAdmin(await adminToken());
    const version = decode(staff.accessToken).av as number;
    const stolen = await call(app, 'POST', '/auth/refresh', { body: { refreshToken: staff.refreshToken } });
    expect(stolen.status).toBe(200);
    return { staff, version, stolen };
  }

  it("a detected reuse of a staff login's refresh token ends the staff powers of the tokens issued before it, a thief's too", async () => {
    const { staff, version, stolen } = await staffRobbedOfRefresh();
    const reused = await call(app, 'POST', '/auth/refresh', { body: { refreshToken: staff.refreshToken } });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('REFRESH_TOKEN_REUSED');
    // The thief's access token, as the owner's, no longer makes staff requests here, and the event server is told.
    for (const token of [stolen.body.accessToken as string, staff.accessToken]) {
      const refused = await call(app, 'GET', '/users', { token });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('STALE_ACCESS_TOKEN');
    }
    expect((await accessNotices(staff.id)).map((row) => row.payload)).toContainEqual(
      expect.objectContaining({ userId: staff.id, accessVersion: version + 1 }),
    );
    // Presenting the revoked token again changes nothing more.
    const again = await call(app, 'POST', '/auth/refresh', { body: { refreshToken: staff.refreshToken } });
    expect(again.status).toBe(401);
    expect((await db.collection('users').findOne({ email: staff.email }))?.accessVersion).toBe(version + 1);
    // A new sign-in works as staff.
    const fresh = await login(app, staff.email, staff.password);
    expect((await call(app, 'GET', '/users', { token: fresh.body.accessToken as string })).status).toBe(200);
  });

  it("a detected reuse whose staff powers could not be ended now (the user's lock busy) ends them at the retry", async () => {
    const { staff, version, stolen } = await staffRobbedOfRefresh();
    const busy = new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, 'busy', { retryAfterSeconds: 1 });
    const endStaffAccess = vi.spyOn(app.get(UsersService), 'endStaffAccess').mockRejectedValueOnce(busy);
    try {
      expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: staff.refreshToken } })).status).toBe(503);
      // The owner's client sends it again: the reuse is found again, and this time the powers end with the login.
      const reused = await call(app, 'POST', '/auth/refresh', { body: { refreshToken: staff.refreshToken } });
      expect(reused.status).toBe(401);
      expect(reused.body.code).toBe('REFRESH_TOKEN_REUSED');
    } finally {
      endStaffAccess.mockRestore();
    }
    expect((await db.collection('users').findOne({ email: staff.email }))?.accessVersion).toBe(version + 1);
    const refused = await call(app, 'GET', '/users', { token: stolen.body.accessToken as string });
    expect(refused.body.code).toBe('STALE_ACCESS_TOKEN');
    expect(
      (await call(app, 'POST', '/auth/refresh', { body: { refreshToken: stolen.body.refreshToken as string } })).status,
    ).toBe(401);
  });

  it("a detected reuse of a player's refresh token changes no access version", async () => {
    const player = await signedInUser(app);
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: player.refreshToken } })).status).toBe(200);
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: player.refreshToken } })).status).toBe(401);
    expect(await accessNotices(player.id)).toHaveLength(0);
    expect((await db.collection('users').findOne({ email: player.email }))?.accessVersion ?? 0).toBe(0);
  });

  it('a replayed staff logout (its login ended already) bumps nothing more', async () => {
    const staff = await newAdmin(await adminToken());
    const logout = () =>
      call(app, 'POST', '/auth/logout', { token: staff.accessToken, body: { refreshToken: staff.refreshToken } });
    expect((await logout()).status).toBe(204);
    const version = (await db.collection('users').findOne({ email: staff.email }))?.accessVersion as number;
    const notices = (await accessNotices(staff.id)).length;
    for (let i = 0; i < 3; i += 1) expect((await logout()).status).toBe(204);
    expect((await db.collection('users').findOne({ email: staff.email }))?.accessVersion).toBe(version);
    expect(await accessNotices(staff.id)).toHaveLength(notices);
  });

  it('a staff logout whose bump failed, or whose login was ended before, still ends the staff powers when sent again', async () => {
    const locks = db.collection<{ _id: string; holder: string; expiresAt: Date }>('role_change_locks');
    const staff = await newAdmin(await adminToken());
    const logout = () =>
      call(app, 'POST', '/auth/logout', { token: staff.accessToken, body: { refreshToken: staff.refreshToken } });
    // The user's mutex is busy: the login is ended, the bump is not made (503).
    await locks.insertOne({ _id: `user:${staff.id}`, holder: 'busy', expiresAt: new Date(Date.now() + 60_000) });
    try {
      expect((await logout()).status).toBe(503);
    } finally {
      await locks.deleteOne({ _id: `user:${staff.id}`, holder: 'busy' });
    }
    expect((await call(app, 'GET', '/users', { token: staff.accessToken })).status).toBe(200);
    // Sent again, with its login revoked already: the bump is made now.
    expect((await logout()).status).toBe(204);
    const refused = await call(app, 'GET', '/users', { token: staff.accessToken });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('STALE_ACCESS_TOKEN');
  });

  it("a player's logout, or one with a refresh token not the caller's, changes no access version", async () => {
    const player = await signedInUser(app);
    const staff = await newAdmin(await adminToken());
    const foreign = await call(app, 'POST', '/auth/logout', {
      token: staff.accessToken,
      body: { refreshToken: player.refreshToken },
    });
    expect(foreign.status).toBe(204);
    expect((await call(app, 'GET', '/users', { token: staff.accessToken })).status).toBe(200);
    expect(
      await call(app, 'POST', '/auth/logout', { token: player.accessToken, body: { refreshToken: player.refreshToken } }),
    ).toMatchObject({
      status: 204,
    });
    expect(await accessNotices(player.id)).toHaveLength(0);
    expect((await db.collection('users').findOne({ email: player.email }))?.accessVersion ?? 0).toBe(0);
  });

  it("a user's own logout-all, password change and logout do not wait for the role-change mutex", async () => {
    // Held by someone else for a minute: a role change would wait for it (see above), a user's own writes must not.
    const locks = db.collection<{ _id: string; holder: string; expiresAt: Date }>('role_change_locks');
    const staff = await newAdmin(await adminToken());
    const user = await signedInUser(app);
    await locks.insertOne({ _id: 'admin-roles', holder: 'busy', expiresAt: new Date(Date.now() + 60_000) });
    try {
      expect((await call(app, 'POST', `/users/${user.id}/logout-all`, { token: user.accessToken })).status).toBe(204);
      const session = await login(app, user.email, user.password);
      const changed = await call(app, 'POST', '/users/me/password', {
        token: session.body.accessToken as string,
        body: { currentPassword: user.password, newPassword: `${user.password}-2` },
      });
      expect(changed.status).toBe(204);
      const out = await call(app, 'POST', '/auth/logout', {
        token: staff.accessToken,
        body: { refreshToken: staff.refreshToken },
      });
      expect(out.status).toBe(204);
      expect(await locks.countDocuments({ _id: { $ne: 'admin-roles' } as never })).toBe(0);
    } finally {
      await locks.deleteOne({ _id: 'admin-roles', holder: 'busy' });
    }
  });

  it("a USER's logout-all of another user is refused 403 without waiting for either mutex", async () => {
    // Any player may send it: were it to take the target's mutex and the role-change one before being refused, a
    // crowd of such requests would hold up ADMINs' role changes and the target's own writes (503 after 5 s).
    const locks = db.collection<{ _id: string; holder: string; expiresAt: Date }>('role_change_locks');
    const user = await signedInUser(app);
    const target = await signedInUser(app);
    await locks.insertMany([
      { _id: 'admin-roles', holder: 'busy', expiresAt: new Date(Date.now() + 60_000) },
      { _id: `user:${target.id}`, holder: 'busy', expiresAt: new Date(Date.now() + 60_000) },
    ]);
    try {
      const refused = await call(app, 'POST', `/users/${target.id}/logout-all`, { token: user.accessToken });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('FORBIDDEN');
    } finally {
      await locks.deleteMany({ holder: 'busy' });
    }
    expect((await call(app, 'POST', '/auth/refresh', { body: { refreshToken: target.refreshToken } })).status).toBe(200);
  });
});

function decode(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}
