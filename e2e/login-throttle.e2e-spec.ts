import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from './support/client.js';
import { type Stack, startStack } from './support/stack.js';

describe('login throttling through the gateway', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack('throttle', { auth: { LOGIN_RATE_LIMIT: '3', LOGIN_RATE_WINDOW_SECONDS: '60' } });
    api = new Client(stack.gatewayUrl);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('throttles per client IP with Retry-After, and a forged X-Forwarded-For does not reset it', async () => {
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
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  });
});
