import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from './support/client.js';
import { type Stack, startStack } from './support/stack.js';

describe('login throttling through the gateway', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack('throttle', {
      auth: {
        LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3',
        LOGIN_FAILURES_PER_ADDRESS: '10',
        LOGIN_THROTTLE_WINDOW_SECONDS: '600',
      },
    });
    api = new Client(stack.gatewayUrl);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('locks an account after its failures with Retry-After, and a forged X-Forwarded-For does not reset it', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const reply = await api.request('POST', '/auth/login', {
        body: { email: 'someone@e2e.test', password: 'wrong-password' },
        // A client rotating its claimed address on every try.
        headers: { 'x-forwarded-for': `203.0.113.${attempt + 1}` },
      });
      statuses.push(reply.status);
      if (reply.status === 429) {
        retryAfter = reply.headers.get('retry-after');
        expect(reply.body.code).toBe('TOO_MANY_REQUESTS');
      }
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(600);
  });

  it('lets 30 players behind one address log in at once while a locked account stays locked', async () => {
    const players = Array.from({ length: 30 }, (_, i) => ({ email: `player-${i}@cafe.e2e.test`, password: 'a-long-password' }));
    for (const player of players) expect((await api.request('POST', '/auth/register', { body: player })).status).toBe(201);
    const replies = await Promise.all(players.map((player) => api.request('POST', '/auth/login', { body: player })));
    expect(replies.map((reply) => reply.status)).toEqual(Array(30).fill(200));
    const locked = await api.request('POST', '/auth/login', { body: { email: 'someone@e2e.test', password: 'wrong-password' } });
    expect(locked.status).toBe(429);
  });
});
