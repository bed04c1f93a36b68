import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, type TokenPair, signUp, uniqueEmail } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

interface Page<T> {
  items: T[];
  total: number;
}

describe('activities the platform records by itself (auth outbox -> event server)', () => {
  let stack: Stack;
  let api: Client;
  let admin: TokenPair;

  beforeAll(async () => {
    stack = await startStack('recorded');
    api = new Client(stack.gatewayUrl);
    admin = (await api.post<TokenPair>('/auth/login', ADMIN)).body;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const countOf = async (userId: string, type: string): Promise<number> =>
    (await api.get<Page<unknown>>(`/activities?userId=${userId}&type=${type}&limit=1`, admin.accessToken)).body.total;

  it('records every login and every referral without anyone importing them', async () => {
    const inviter = await signUp(api, 'inviter');
    const me = await api.get<{ referralCode: string }>('/users/me', inviter.tokens.accessToken);
    for (let friend = 0; friend < 2; friend += 1) {
      const invited = await api.post('/auth/register', {
        email: uniqueEmail('friend'),
        password: 'friendly-password',
        referralCode: me.body.referralCode,
      });
      expect(invited.status).toBe(201);
    }
    const now = Date.now();
    const event = await api.post<{ id: string }>(
      '/events',
      {
        title: 'Bring friends',
        startAt: new Date(now - 3_600_000).toISOString(),
        endAt: new Date(now + 86_400_000).toISOString(),
        status: 'ACTIVE',
        approval: 'AUTO',
        condition: {
          type: 'ALL',
          conditions: [
            { type: 'LOGIN_DAYS', days: 1 },
            { type: 'INVITE_FRIENDS', count: 2 },
          ],
        },
      },
      admin.accessToken,
    );
    expect(event.status).toBe(201);
    await vi.waitFor(
      async () => {
        const progress = await api.get<{ eligible: boolean }>(`/events/${event.body.id}/progress`, inviter.tokens.accessToken);
        expect(progress.body.eligible).toBe(true);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await countOf(inviter.id, 'FRIEND_INVITE')).toBe(2);
    expect(await countOf(inviter.id, 'LOGIN')).toBe(1);
  });

  it('loses no LOGIN while the event server is down, and answers every login meanwhile', async () => {
    const player = await signUp(api, 'steady');
    await stack.stopEvent();
    for (let login = 0; login < 4; login += 1) {
      const reply = await api.post('/auth/login', { email: player.email, password: player.password });
      expect(reply.status).toBe(200);
    }
    await stack.restartEvent();
    // 1 login at sign-up + 4 while the event server was down.
    await vi.waitFor(async () => expect(await countOf(player.id, 'LOGIN')).toBe(5), { timeout: 15_000, interval: 100 });
  });

  it('writes an ADMIN role change into the audit log', async () => {
    const player = await signUp(api, 'promoted');
    expect((await api.patch(`/users/${player.id}/roles`, { roles: ['USER', 'AUDITOR'] }, admin.accessToken)).status).toBe(200);
    await vi.waitFor(
      async () => {
        const trail = await api.get<Page<{ action: string; changes: unknown }>>(
          `/audit-logs?targetId=${player.id}`,
          admin.accessToken,
        );
        expect(trail.body.items).toEqual([
          expect.objectContaining({
            action: 'USER_ROLES_CHANGED',
            changes: { roles: { before: ['USER'], after: ['USER', 'AUDITOR'] } },
          }),
        ]);
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
