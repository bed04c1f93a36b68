import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClaimableEvent, makeEligible } from '../test-support/claimable-event.js';
import { Client, type TokenPair, signUp } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

interface Claim {
  id: string;
  status: string;
  reason?: string;
  userId: string;
  rewards: Array<{ rewardId: string; name: string }>;
  code?: string;
}

describe('claims through the gateway', () => {
  let stack: Stack;
  let api: Client;
  let admin: TokenPair;
  let operator: TokenPair;
  let auditor: TokenPair;

  async function staff(role: string): Promise<TokenPair> {
    const account = await signUp(api, role.toLowerCase());
    expect((await api.patch(`/users/${account.id}/roles`, { roles: [role] }, admin.accessToken)).status).toBe(200);
    return (await api.post<TokenPair>('/auth/refresh', { refreshToken: account.tokens.refreshToken })).body;
  }

  /** An event running now that every player with one E2E_CLAIM activity meets. */
  async function claimableEvent(approval: 'AUTO' | 'MANUAL', stock?: number): Promise<{ id: string; rewardId: string }> {
    const event = await createClaimableEvent(api, operator.accessToken, {
      title: `Claimable ${approval}`,
      activity: 'E2E_CLAIM',
      approval,
      rewards: [{ type: 'COUPON', name: '=HYPERLINK("x")', quantity: 1, couponCode: 'WINTER-1', ...(stock && { stock }) }],
    });
    return { id: event.id, rewardId: event.rewardIds[0] as string };
  }

  async function players(count: number): Promise<Array<Awaited<ReturnType<typeof signUp>>>> {
    const accounts = await Promise.all(Array.from({ length: count }, () => signUp(api)));
    await makeEligible(
      api,
      operator.accessToken,
      'E2E_CLAIM',
      accounts.map((player) => player.id),
    );
    return accounts;
  }

  beforeAll(async () => {
    stack = await startStack('claims');
    api = new Client(stack.gatewayUrl);
    admin = (await api.post<TokenPair>('/auth/login', ADMIN)).body;
    operator = await staff('OPERATOR');
    auditor = await staff('AUDITOR');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('hands out a limited coupon exactly stock times to many players claiming at once', async () => {
    const event = await claimableEvent('AUTO', 10);
    const everyone = await players(30);
    const replies = await Promise.all(
      everyone.map((player) => api.post<Claim>(`/events/${event.id}/claims`, undefined, player.tokens.accessToken)),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(20);
    expect(replies.filter((reply) => reply.status === 409).every((reply) => reply.body.code === 'OUT_OF_STOCK')).toBe(true);
    const rewards = await api.get<Array<{ remaining: number }>>(`/events/${event.id}/rewards`, operator.accessToken);
    expect(rewards.body[0]?.remaining).toBe(0);
  });

  it('grants one claim to a player tapping many times, and replays an Idempotency-Key', async () => {
    const event = await claimableEvent('AUTO');
    const [player] = await players(1);
    const taps = await Promise.all(
      Array.from({ length: 20 }, () => api.post<Claim>(`/events/${event.id}/claims`, undefined, player!.tokens.accessToken)),
    );
    expect(taps.filter((tap) => tap.status === 201)).toHaveLength(1);
    expect(taps.filter((tap) => tap.status === 409 && tap.body.code === 'ALREADY_CLAIMED')).toHaveLength(19);
    expect(taps.some((tap) => tap.status >= 500)).toBe(false);

    const other = await claimableEvent('AUTO');
    const headers = { 'idempotency-key': `tap-${player!.id}` };
    const first = await api.request<Claim>('POST', `/events/${other.id}/claims`, { token: player!.tokens.accessToken, headers });
    const again = await api.request<Claim>('POST', `/events/${other.id}/claims`, { token: player!.tokens.accessToken, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const mine = await api.get<{ items: Claim[] }>(`/claims/me?eventId=${other.id}`, player!.tokens.accessToken);
    expect(mine.body.items).toHaveLength(1);
  });

  it('reviews a MANUAL claim, keeps other players out of it, and exports the history safely', async () => {
    const event = await claimableEvent('MANUAL', 5);
    const [player, stranger] = await players(2);
    const claimed = await api.post<Claim>(`/events/${event.id}/claims`, undefined, player!.tokens.accessToken);
    expect(claimed.status).toBe(201);
    expect(claimed.body.status).toBe('PENDING');
    expect((await api.get(`/claims/${claimed.body.id}`, stranger!.tokens.accessToken)).status).toBe(404);
    expect((await api.post(`/claims/${claimed.body.id}/approve`, undefined, player!.tokens.accessToken)).status).toBe(403);
    expect((await api.post(`/claims/${claimed.body.id}/approve`, undefined, auditor.accessToken)).status).toBe(403);

    const approvals = await Promise.all([
      api.post<Claim>(`/claims/${claimed.body.id}/approve`, undefined, operator.accessToken),
      api.post<Claim>(`/claims/${claimed.body.id}/approve`, undefined, admin.accessToken),
    ]);
    expect(approvals.map((reply) => reply.status).sort()).toEqual([200, 409]);
    expect(approvals.find((reply) => reply.status === 409)?.body.code).toBe('INVALID_TRANSITION');
    expect((await api.get<Claim>(`/claims/${claimed.body.id}`, player!.tokens.accessToken)).body.status).toBe('GRANTED');

    const exported = await fetch(`${stack.gatewayUrl}/claims/export?eventId=${event.id}`, {
      headers: { authorization: `Bearer ${auditor.accessToken}` },
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv = await exported.text();
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^id,eventId,userId,status/);
    expect(lines).toHaveLength(2);
    expect(csv).toContain(claimed.body.id);
    // The reward's name starts with "=": it must not reach a spreadsheet as a formula.
    expect(csv).not.toMatch(/(^|,)"?=HYPERLINK/m);
    // For Excel: the same file behind a UTF-8 byte order mark (fetch's text() would hide it: read bytes).
    const forExcel = await fetch(`${stack.gatewayUrl}/claims/export?eventId=${event.id}&bom=true`, {
      headers: { authorization: `Bearer ${auditor.accessToken}` },
    });
    const bytes = Buffer.from(await forExcel.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe(csv);
    expect((await api.get(`/claims/export?bom=yes`, auditor.accessToken)).status).toBe(400);
    expect((await api.get('/claims/export', player!.tokens.accessToken)).status).toBe(403);
  });
});
