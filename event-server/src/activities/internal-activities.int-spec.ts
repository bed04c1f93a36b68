import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';

describe('server-to-server activity reports', () => {
  let t: EventTestApp;
  const serviceToken = (subject = 'auth-server'): string => t.issuer.token(subject, [], { audience: 'reward-platform-internal' });

  beforeAll(async () => {
    t = await startEventTestApp('internal_activities');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('records activities from the auth server once per externalId', async () => {
    const userId = newId();
    const items = [{ userId, type: 'LOGIN', occurredAt: '2025-12-01T00:00:00Z', externalId: `auth:login:${newId()}` }];
    const first = await t.request('POST', '/internal/activities', { token: serviceToken(), body: { items } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ received: 1, inserted: 1, duplicates: 0 });
    const redelivered = await t.request('POST', '/internal/activities', { token: serviceToken(), body: { items } });
    expect(redelivered.body).toEqual({ received: 1, inserted: 0, duplicates: 1 });
    const operator = t.as('OPERATOR');
    const listed = await t.request<{ items: Array<{ source: string; recordedBy: string }> }>(
      'GET',
      `/activities?userId=${userId}`,
      { token: operator.token },
    );
    expect(listed.body.items).toEqual([expect.objectContaining({ source: 'AUTH', recordedBy: 'auth-server' })]);
  });

  it('refuses player tokens, unknown services and missing tokens; a service token is no user token', async () => {
    const body = { items: [{ userId: newId(), type: 'LOGIN' }] };
    expect((await t.request('POST', '/internal/activities', { body })).status).toBe(401);
    expect((await t.request('POST', '/internal/activities', { token: t.as('ADMIN').token, body })).status).toBe(401);
    expect((await t.request('POST', '/internal/activities', { token: serviceToken('game-server'), body })).status).toBe(403);
    expect((await t.request('GET', '/events', { token: serviceToken() })).status).toBe(401);
  });
});
