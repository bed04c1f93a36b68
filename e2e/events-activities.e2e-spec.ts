import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type TokenPair, signUp } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

interface Page<T> {
  items: T[];
  total: number;
}

describe('events, activities, progress and audit through the gateway', () => {
  let stack: Stack;
  let api: Client;
  let operator: { id: string; tokens: TokenPair };
  let auditor: { id: string; tokens: TokenPair };

  async function withRole(role: string): Promise<{ id: string; tokens: TokenPair }> {
    const admin = (await api.post<TokenPair>('/auth/login', ADMIN)).body;
    const account = await signUp(api, role.toLowerCase());
    expect((await api.patch(`/users/${account.id}/roles`, { roles: [role] }, admin.accessToken)).status).toBe(200);
    const tokens = (await api.post<TokenPair>('/auth/refresh', { refreshToken: account.tokens.refreshToken })).body;
    return { id: account.id, tokens };
  }

  beforeAll(async () => {
    stack = await startStack('events');
    api = new Client(stack.gatewayUrl);
    operator = await withRole('OPERATOR');
    auditor = await withRole('AUDITOR');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('lets an operator define a nested event in New York time and a player see progress across local midnight', async () => {
    const player = await signUp(api);
    const created = await api.post<{ id: string }>(
      '/events',
      {
        title: 'Winter streak',
        startAt: '2025-12-01T05:00:00Z',
        endAt: '2026-01-01T05:00:00Z',
        status: 'ACTIVE',
        approval: 'AUTO',
        timezone: 'America/New_York',
        condition: {
          type: 'ALL',
          conditions: [
            { type: 'LOGIN_STREAK', days: 2 },
            {
              type: 'ANY',
              conditions: [
                { type: 'QUEST_CLEAR', questId: 'Q-17' },
                { type: 'ACTIVITY_COUNT', activity: 'PVP_WIN', count: 3 },
              ],
            },
          ],
        },
      },
      operator.tokens.accessToken,
    );
    expect(created.status).toBe(201);
    const reward = await api.post(
      `/events/${created.body.id}/rewards`,
      { type: 'ITEM', name: 'Sled', quantity: 1, stock: 5, itemCode: 'SLED-1' },
      operator.tokens.accessToken,
    );
    expect(reward.status).toBe(201);

    // 04:30Z and 05:30Z on Dec 10 are 23:30 on Dec 9 and 00:30 on Dec 10 in New York: two days in a row.
    const items = [
      { userId: player.id, type: 'LOGIN', occurredAt: '2025-12-10T04:30:00Z', externalId: `e2e-${player.id}-1` },
      { userId: player.id, type: 'LOGIN', occurredAt: '2025-12-10T05:30:00Z', externalId: `e2e-${player.id}-2` },
      {
        userId: player.id,
        type: 'QUEST_CLEAR',
        occurredAt: '2025-12-11T12:00:00Z',
        attributes: { questId: 'Q-17' },
        externalId: `e2e-${player.id}-3`,
      },
    ];
    const imported = await api.post('/activities', { items }, operator.tokens.accessToken);
    expect(imported.body).toEqual({ received: 3, inserted: 3, duplicates: 0 });
    const repeated = await api.post('/activities', { items }, operator.tokens.accessToken);
    expect(repeated.body).toEqual({ received: 3, inserted: 0, duplicates: 3 });

    const progress = await api.get(`/events/${created.body.id}/progress`, player.tokens.accessToken);
    expect(progress.status).toBe(200);
    expect(progress.body).toMatchObject({
      eligible: true,
      conditions: [
        { type: 'LOGIN_STREAK', required: 2, current: 2, met: true },
        { type: 'QUEST_CLEAR', met: true },
        { type: 'ACTIVITY_COUNT', required: 3, current: 0, met: false },
      ],
    });
    const event = await api.get<{ rewards: Array<{ remaining: number }> }>(
      `/events/${created.body.id}`,
      player.tokens.accessToken,
    );
    expect(event.body.rewards).toEqual([expect.objectContaining({ name: 'Sled', stock: 5, remaining: 5 })]);

    const nosy = await api.get(`/events/${created.body.id}/progress?userId=${operator.id}`, player.tokens.accessToken);
    expect(nosy.status).toBe(403);
    const dryRun = await api.get(`/events/${created.body.id}/progress?userId=${player.id}`, operator.tokens.accessToken);
    expect(dryRun.body.eligible).toBe(true);
  });

  it('refuses writes by USER and AUDITOR at the gateway and bad input with a code', async () => {
    const player = await signUp(api);
    const body = {
      title: 't',
      startAt: '2025-12-01T00:00:00Z',
      endAt: '2025-12-02T00:00:00Z',
      status: 'ACTIVE',
      approval: 'AUTO',
      condition: { type: 'LOGIN_DAYS', days: 1 },
    };
    expect((await api.post('/events', body, player.tokens.accessToken)).status).toBe(403);
    expect((await api.post('/events', body, auditor.tokens.accessToken)).status).toBe(403);
    expect((await api.post('/activities', { userId: player.id, type: 'LOGIN' }, auditor.tokens.accessToken)).status).toBe(403);
    const reversed = await api.post('/events', { ...body, endAt: '2025-11-01T00:00:00Z' }, operator.tokens.accessToken);
    expect(reversed.status).toBe(400);
    expect(reversed.body.code).toBe('INVALID_PERIOD');
    const tooMany = await api.post(
      '/activities',
      { items: Array.from({ length: 1001 }, () => ({ userId: player.id, type: 'LOGIN' })) },
      operator.tokens.accessToken,
    );
    expect(tooMany.status).toBe(400);
    expect((await api.get('/events/not-an-id', player.tokens.accessToken)).body.code).toBe('INVALID_ID');
  });

  it('shows auditors who changed what', async () => {
    const trail = await api.get<Page<{ action: string; actorId: string }>>(
      `/audit-logs?actorId=${operator.id}`,
      auditor.tokens.accessToken,
    );
    expect(trail.status).toBe(200);
    const actions = trail.body.items.map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['EVENT_CREATED', 'REWARD_CREATED', 'ACTIVITIES_IMPORTED']));
    expect((await api.get('/audit-logs', operator.tokens.accessToken)).status).toBe(403);
  });
});
