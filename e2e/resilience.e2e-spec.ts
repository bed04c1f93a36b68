import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from './support/client.js';
import { type Stack, startStack } from './support/stack.js';

describe('gateway when a server is down', () => {
  let stack: Stack;
  let api: Client;

  beforeAll(async () => {
    stack = await startStack('resilience');
    api = new Client(stack.gatewayUrl);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('reports both servers healthy, then names the event server once it stops', async () => {
    const healthy = await api.get<{ status: string }>('/health');
    expect(healthy.status).toBe(200);

    await stack.stopEvent();
    const started = performance.now();
    const degraded = await api.get('/health');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(degraded.status).toBe(503);
    expect(degraded.body.code).toEqual(expect.any(String));
    expect(JSON.stringify(degraded.body)).toMatch(/event/);

    // The auth half keeps answering.
    const jwks = await api.get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
  });

  it('answers a proxied call to a stopped server with 502/503 fast, never 500', async () => {
    await stack.stopAuth();
    // The gateway never needed the signing keys yet, and cannot fetch them now: 503, not 401.
    const protectedCall = await api.get('/users/me', 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln');
    expect(protectedCall.status).toBe(503);
    expect(protectedCall.body.code).toBe('UPSTREAM_UNAVAILABLE');

    const started = performance.now();
    const reply = await api.post('/auth/login', { email: 'a@b.co', password: 'whatever-long' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect([502, 503]).toContain(reply.status);
    expect(reply.body).toMatchObject({ statusCode: reply.status, code: expect.any(String) });
  });
});
