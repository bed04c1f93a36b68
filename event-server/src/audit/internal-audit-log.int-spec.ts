import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';

describe('audit entries reported by the auth server', () => {
  let t: EventTestApp;

  beforeAll(async () => {
    t = await startEventTestApp('internal_audit');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('records a role change once, however often it is delivered, and shows it to auditors', async () => {
    const token = t.issuer.token('auth-server', [], { audience: 'reward-platform-internal' });
    const admin = newId();
    const entry = {
      actorId: admin,
      action: 'USER_ROLES_CHANGED',
      targetType: 'USER',
      targetId: newId(),
      at: '2025-12-01T10:00:00.000Z',
      changes: { roles: { before: ['USER'], after: ['USER', 'OPERATOR'] } },
      externalId: `auth:audit:${newId()}`,
    };
    expect((await t.request('POST', '/internal/audit-logs', { token, body: entry })).body).toEqual({ inserted: true });
    expect((await t.request('POST', '/internal/audit-logs', { token, body: entry })).body).toEqual({ inserted: false });
    const trail = await t.request<{ items: unknown[] }>('GET', `/audit-logs?actorId=${admin}`, { token: t.as('AUDITOR').token });
    expect(trail.body.items).toEqual([
      {
        id: expect.any(String),
        actorId: admin,
        action: 'USER_ROLES_CHANGED',
        targetType: 'USER',
        targetId: entry.targetId,
        at: entry.at,
        changes: entry.changes,
      },
    ]);
    const asAdmin = await t.request('POST', '/internal/audit-logs', { token: t.as('ADMIN').token, body: entry });
    expect(asAdmin.status).toBe(401);
    const bad = await t.request('POST', '/internal/audit-logs', { token, body: { ...entry, action: 'lower case' } });
    expect(bad.status).toBe(400);
  });

  it('keeps keys of changes named after Object.prototype members', async () => {
    const token = t.issuer.token('auth-server', [], { audience: 'reward-platform-internal' });
    const admin = newId();
    const changes = '{"toString":{"before":"a","after":"b"},"constructor":"c","roles":{"before":["USER"],"after":["USER"]}}';
    const raw =
      `{"actorId":"${admin}","action":"USER_ROLES_CHANGED","targetType":"USER","targetId":"${newId()}",` +
      `"at":"2025-12-01T10:00:00.000Z","changes":${changes},"externalId":"auth:audit:${newId()}"}`;
    expect((await t.request('POST', '/internal/audit-logs', { token, raw })).status).toBe(201);
    const trail = await t.request<{ items: Array<{ changes: unknown }> }>('GET', `/audit-logs?actorId=${admin}`, {
      token: t.as('AUDITOR').token,
    });
    expect(JSON.stringify(trail.body.items.map((item) => item.changes))).toBe(`[${changes}]`);
  });
});
