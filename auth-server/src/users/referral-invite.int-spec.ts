import { describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { appPerBlock, register } from '../testing/auth-test-app.js';
import { PendingUserReportSweep } from './pending-user-report.sweep.js';
import { UserRepository } from './user.repository.js';

const storeGone = (): Error => Object.assign(new Error('the store went away (injected)'), { name: 'MongoNetworkError' });

/**
 * A sign-up with a referral code inserts the account, then the invite's outbox row. The process dying between the
 * two (or the store failing the row and then the account's removal) left an account whose invite was never
 * recorded, for good: signing up again is EMAIL_TAKEN. Now the account carries `invitePending` from its insert
 * until the row is written, and the sweep writes a row for one left so.
 */
describe('a referral sign-up cut off between the account and its invite', () => {
  const block = appPerBlock(testDatabaseName('referral_invite'));

  const invites = (inviteeId: string) =>
    block.db.collection('outbox').countDocuments({ 'payload.externalId': `auth:FRIEND_INVITE:${inviteeId}` });

  it('has its invite written by the sweep, once', async () => {
    const owner = await register(block.app);
    vi.spyOn(block.app.get(OutboxService), 'enqueueFriendInvite').mockRejectedValueOnce(storeGone());
    vi.spyOn(block.app.get(UserRepository), 'deleteById').mockRejectedValueOnce(storeGone());
    const email = `cut-${Date.now()}@example.com`;
    const signUp = await register(block.app, { email, referralCode: owner.body.referralCode as string });
    expect(signUp.status).toBeGreaterThanOrEqual(500);
    vi.restoreAllMocks();
    const invitee = await block.db.collection('users').findOne({ email });
    expect(invitee).not.toBeNull();
    const inviteeId = invitee!._id.toHexString();
    expect(await invites(inviteeId)).toBe(0);

    // A sign-up under way is left to its own request: only accounts older than a minute are swept.
    await block.app.get(PendingUserReportSweep).sweep();
    expect(await invites(inviteeId)).toBe(0);
    const later = new Date(Date.now() + 2 * 60_000);
    await block.app.get(PendingUserReportSweep).sweep(later);
    await block.app.get(PendingUserReportSweep).sweep(later);
    expect(await invites(inviteeId)).toBe(1);
    const row = await block.db.collection('outbox').findOne({ 'payload.externalId': `auth:FRIEND_INVITE:${inviteeId}` });
    expect(row!.payload).toMatchObject({ userId: owner.body.id, type: 'FRIEND_INVITE' });
  });

  it('leaves nothing to sweep after a sign-up that wrote its invite', async () => {
    const owner = await register(block.app);
    const signUp = await register(block.app, { referralCode: owner.body.referralCode as string });
    expect(signUp.status).toBe(201);
    await block.app.get(PendingUserReportSweep).sweep(new Date(Date.now() + 2 * 60_000));
    expect(await invites(signUp.body.id as string)).toBe(1);
  });
});
