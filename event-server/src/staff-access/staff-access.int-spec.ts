import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { AccessVersionRepository } from './access-version.repository.js';

const event = {
  title: 'Staff access',
  startAt: '2025-12-01T00:00:00+09:00',
  endAt: '2025-12-31T23:59:59+09:00',
  status: 'ACTIVE',
  approval: 'AUTO',
  condition: { type: 'LOGIN_DAYS', days: 3 },
};

describe('staff tokens older than the newest access version', () => {
  let t: EventTestApp;
  let service: string;
  /** The store commands on the access versions so far (the staff check's reads). */
  let versionReads = 0;

  beforeAll(async () => {
    const uri = inject('mongoUri');
    t = await startEventTestApp('staff_access', { MONGODB_URI: `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true` });
    t.app
      .get<Connection>(getConnectionToken())
      .getClient()
      .on('commandStarted', (event) => {
        if ((event.command as Record<string, unknown>)[event.commandName] === 'staff_access_versions') versionReads++;
      });
    service = t.issuer.token('auth-server', [], { audience: 'reward-platform-internal' });
  });

  afterAll(async () => {
    await t?.close();
  });

  const notify = (userId: string, accessVersion: number, reason = 'ROLES_CHANGED') =>
    t.request('POST', '/internal/access-versions', {
      token: service,
      body: { userId, accessVersion, reason, at: new Date().toISOString() },
    });
  const tokenOf = (userId: string, roles: string[], av?: number) =>
    t.issuer.token(userId, roles, av === undefined ? {} : { claims: { av } });
  const eventCount = async (token: string): Promise<number> =>
    (await t.request<{ total: number }>('GET', '/events?limit=1', { token })).body.total;

  it('after a notice, every staff write and read from an older token is 401 STALE_ACCESS_TOKEN and writes nothing', async () => {
    const operator = newId();
    const old = tokenOf(operator, ['OPERATOR']);
    const created = await t.request<{ id: string }>('POST', '/events', { token: old, body: event });
    expect(created.status).toBe(201);
    const reader = tokenOf(newId(), ['AUDITOR']);

    expect((await notify(operator, 1)).body).toEqual({ inserted: true });
    const before = await eventCount(reader);
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/events', event],
      ['PATCH', `/events/${created.body.id}`, { title: 'changed' }],
      ['POST', `/events/${created.body.id}/rewards`, { type: 'POINT', name: 'points', quantity: 10 }],
      ['POST', '/activities', { userId: newId(), type: 'LOGIN' }],
      ['POST', `/claims/${newId()}/approve`, undefined],
      ['POST', `/claims/${newId()}/reject`, { note: 'no' }],
      ['POST', `/claims/${newId()}/revoke`, { note: 'no' }],
    ];
    for (const [method, url, body] of writes) {
      const reply = await t.request(method as 'POST' | 'PATCH', url, { token: old, body });
      expect(reply.status, `${method} ${url}`).toBe(401);
      expect(reply.body).toMatchObject({ statusCode: 401, code: 'STALE_ACCESS_TOKEN' });
    }
    for (const url of [
      '/claims',
      '/activities',
      `/events/${created.body.id}`,
      `/events/${created.body.id}/progress?userId=${newId()}`,
    ]) {
      const reply = await t.request('GET', url, { token: old });
      expect(reply.status, url).toBe(401);
      expect(reply.body).toMatchObject({ code: 'STALE_ACCESS_TOKEN' });
    }
    expect(await eventCount(reader)).toBe(before);
    const detail = await t.request<{ title: string; rewards: unknown[] }>('GET', `/events/${created.body.id}`, { token: reader });
    expect(detail.body).toMatchObject({ title: event.title, rewards: [] });

    // A token issued after the change (carrying the new version) writes again.
    const fresh = tokenOf(operator, ['OPERATOR'], 1);
    expect((await t.request('POST', '/events', { token: fresh, body: event })).status).toBe(201);
  });

  it('keeps the newest version whatever order notices arrive in, and records a redelivery once', async () => {
    const admin = newId();
    expect((await notify(admin, 3, 'LOGGED_OUT_EVERYWHERE')).body).toEqual({ inserted: true });
    expect((await notify(admin, 2)).body).toEqual({ inserted: true });
    expect((await notify(admin, 3, 'LOGGED_OUT_EVERYWHERE')).body).toEqual({ inserted: false });
    expect((await t.request('POST', '/events', { token: tokenOf(admin, ['ADMIN'], 2), body: event })).status).toBe(401);
    expect((await t.request('POST', '/events', { token: tokenOf(admin, ['ADMIN'], 3), body: event })).status).toBe(201);
  });

  it('leaves users nobody reported, and player tokens, alone', async () => {
    expect((await t.request('POST', '/events', { token: tokenOf(newId(), ['OPERATOR']), body: event })).status).toBe(201);
    const player = newId();
    await notify(player, 5);
    const claim = await t.request('POST', `/events/${newId()}/claims`, { token: tokenOf(player, ['USER']) });
    expect(claim.status).toBe(404);
    expect((await t.request('GET', '/claims/me', { token: tokenOf(player, ['USER']) })).status).toBe(200);
  });

  it('takes notices only from the auth server, and only well-formed ones', async () => {
    const body = { userId: newId(), accessVersion: 1, reason: 'ROLES_CHANGED', at: new Date().toISOString() };
    const asAdmin = await t.request('POST', '/internal/access-versions', { token: tokenOf(newId(), ['ADMIN']), body });
    expect(asAdmin.status).toBe(401);
    for (const bad of [
      { ...body, accessVersion: 0 },
      { ...body, accessVersion: 1.5 },
      { ...body, userId: 'nope' },
      { ...body, reason: 'because' },
      { ...body, reason: 'A'.repeat(41) },
      { ...body, extra: true },
    ]) {
      const reply = await t.request('POST', '/internal/access-versions', { token: service, body: bad });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    }
    // A reason this server does not know yet (a newer auth server) is taken: it is only stored.
    const newer = await t.request('POST', '/internal/access-versions', {
      token: service,
      body: { ...body, reason: 'A_REASON_FROM_A_NEWER_SERVER' },
    });
    expect(newer.status).toBeLessThan(300);
  });

  it("reads the newest version once per staff request, and never for a player's, a service's or a public request", async () => {
    const player = tokenOf(newId(), ['USER']);
    const operator = tokenOf(newId(), ['OPERATOR']);
    let before = versionReads;
    expect((await t.request('GET', '/claims/me', { token: player })).status).toBe(200);
    expect((await t.request('POST', `/events/${newId()}/claims`, { token: player })).status).toBe(404);
    expect((await t.request('GET', '/health')).status).toBeLessThan(500);
    expect((await notify(newId(), 1)).status).toBe(201);
    // The notice itself is one insert, not a read.
    expect(versionReads - before).toBe(1);
    before = versionReads;
    expect((await t.request('GET', '/events?limit=1', { token: operator })).status).toBe(200);
    expect((await t.request('GET', '/claims/me', { token: operator })).status).toBe(200);
    expect(versionReads - before).toBe(2);
  });

  it('answers 503 with Retry-After, not 500, when the store cannot tell the newest version, and lets no staff request through', async () => {
    const versions = t.app.get(AccessVersionRepository);
    const unavailable = Object.assign(new Error('connection refused'), { name: 'MongoServerSelectionError' });
    const spy = vi.spyOn(versions, 'findLatestVersion').mockRejectedValue(unavailable);
    try {
      const reply = await t.app.inject({
        method: 'POST',
        url: '/events',
        headers: { authorization: `Bearer ${tokenOf(newId(), ['OPERATOR'])}` },
        payload: event,
      });
      expect(reply.statusCode).toBe(503);
      expect(reply.json()).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(reply.headers['retry-after']).toMatch(/^\d+$/);
      // Any other failure of the read is the server's (500), and lets nothing through either.
      spy.mockRejectedValue(new TypeError('a bug in the check'));
      const failed = await t.request('GET', '/claims', { token: tokenOf(newId(), ['AUDITOR']) });
      expect(failed.status).toBe(500);
      // A player's request never asks.
      spy.mockClear();
      expect((await t.request('GET', '/claims/me', { token: tokenOf(newId(), ['USER']) })).status).toBe(200);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
