import { describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { appPerBlock, call, register, signedInAdmin } from '../testing/auth-test-app.js';
import { PendingUserReportSweep } from './pending-user-report.sweep.js';
import { UserRepository } from './user.repository.js';

const storeGone = (): Error => Object.assign(new Error('the store went away (injected)'), { name: 'MongoNetworkError' });

/**
 * A role change is written, then reported through the outbox (the access notice that makes the event server refuse
 * the user's older staff tokens, and the audit entry). The process dying between the write and the rows, or the
 * store failing there and again for the put-back, is the same state: the user holds the new roles and nothing
 * says so. Before, it stayed so for good: the demoted operator's staff tokens kept their staff writes on the event
 * server until they expired, and the change had no audit entry ever. Now the report rides on the roles' own write
 * and is made, once, by the sweep or by the user's next role change.
 */
describe('a role change cut off between its write and its report', () => {
  const block = appPerBlock(testDatabaseName('role_report'));

  /** The role change's first outbox row fails, and so does the put-back of the roles: as if the process died there. */
  async function changeCutOff(targetId: string, adminToken: string, roles: string[]): Promise<void> {
    vi.spyOn(block.app.get(OutboxService), 'enqueueAccessVersion').mockRejectedValueOnce(storeGone());
    const users = block.app.get(UserRepository);
    const replaceRoles = users.replaceRoles.bind(users);
    let calls = 0;
    vi.spyOn(users, 'replaceRoles').mockImplementation(async (...args: Parameters<UserRepository['replaceRoles']>) => {
      calls += 1;
      if (calls > 1) throw storeGone();
      return replaceRoles(...args);
    });
    const change = await call(block.app, 'PATCH', `/users/${targetId}/roles`, { token: adminToken, body: { roles } });
    expect(change.status).toBeGreaterThanOrEqual(500);
    vi.restoreAllMocks();
  }

  const rows = (targetId: string, kind: 'ACCESS' | 'AUDIT') =>
    block.db
      .collection('outbox')
      .find(kind === 'ACCESS' ? { kind, 'payload.userId': targetId } : { kind, 'payload.targetId': targetId })
      .toArray();

  it('is reported by the sweep, once', async () => {
    const target = await register(block.app);
    const targetId = target.body.id as string;
    const admin = await signedInAdmin(block.app);
    await changeCutOff(targetId, admin.accessToken, ['OPERATOR']);
    const stored = await block.db.collection('users').findOne({ email: target.email });
    expect(stored!.roles).toEqual(['OPERATOR']);

    await block.app.get(PendingUserReportSweep).sweep();
    await block.app.get(PendingUserReportSweep).sweep();
    const notices = await rows(targetId, 'ACCESS');
    expect(notices.map((row) => row.payload.accessVersion)).toEqual([stored!.accessVersion]);
    const audits = await rows(targetId, 'AUDIT');
    expect(audits).toHaveLength(1);
    expect(audits[0]!.payload).toMatchObject({
      action: 'USER_ROLES_CHANGED',
      changes: { roles: { before: ['USER'], after: ['OPERATOR'] } },
    });
  });

  it("is reported by the user's next role change, before that change", async () => {
    const target = await register(block.app);
    const targetId = target.body.id as string;
    const admin = await signedInAdmin(block.app);
    await changeCutOff(targetId, admin.accessToken, ['OPERATOR']);
    // The same change sent again (its answer was a 5xx) finds nothing to change, and reports the first.
    const again = await call(block.app, 'PATCH', `/users/${targetId}/roles`, {
      token: admin.accessToken,
      body: { roles: ['OPERATOR'] },
    });
    expect(again.status).toBe(200);
    const demote = await call(block.app, 'PATCH', `/users/${targetId}/roles`, {
      token: admin.accessToken,
      body: { roles: ['USER'] },
    });
    expect(demote.status).toBe(200);
    await block.app.get(PendingUserReportSweep).sweep();
    const audits = (await rows(targetId, 'AUDIT')).map((row) => row.payload.changes.roles);
    expect(audits).toEqual([
      { before: ['USER'], after: ['OPERATOR'] },
      { before: ['OPERATOR'], after: ['USER'] },
    ]);
    const versions = (await rows(targetId, 'ACCESS')).map((row) => row.payload.accessVersion as number);
    expect(versions).toHaveLength(2);
    expect(new Set(versions).size).toBe(2);
  });
});
