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
    // Only the auth server's own names: an entry it reported under one of the event server's would pose as that.
    for (const [field, value, message] of [
      ['action', 'EVENT_CREATED', 'action must be one of the following values: USER_ROLES_CHANGED, USER_LOGGED_OUT_EVERYWHERE'],
      [
        'action',
        'USER_ROLE_CHANGED',
        'action must be one of the following values: USER_ROLES_CHANGED, USER_LOGGED_OUT_EVERYWHERE',
      ],
      ['targetType', 'EVENT', 'targetType must be one of the following values: USER'],
    ]) {
      const body = { ...entry, [field as string]: value, externalId: `auth:audit:${newId()}` };
      const refused = await t.request('POST', '/internal/audit-logs', { token, body });
      expect(refused.status, value).toBe(400);
      expect(refused.body, value).toMatchObject({ code: 'VALIDATION_FAILED', message: [message] });
    }
    const after = await t.request<{ total: number }>('GET', `/audit-logs?actorId=${admin}`, { token: t.as('AUDITOR').token });
    expect(after.body.total).toBe(1);
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

  const report = (changes: string, actorId = newId()): string =>
    `{"actorId":"${actorId}","action":"USER_ROLES_CHANGED","targetType":"USER","targetId":"${newId()}",` +
    `"at":"2025-12-01T10:00:00.000Z","changes":${changes},"externalId":"auth:audit:${newId()}"}`;

  it('stores changes exactly as sent, whatever their keys are named and however empty their objects', async () => {
    const token = t.issuer.token('auth-server', [], { audience: 'reward-platform-internal' });
    // Mongoose's clone read `constructor` as the class to copy with: a 500, a regex, or the key lost; it also
    // dropped empty objects and unwrapped `{$__, _doc}` as if it were a document.
    for (const changes of [
      '{"constructor":{"name":"Date"}}',
      '{"roles":{"constructor":{"name":"Date"}}}',
      '{"constructor":{"toString":1}}',
      '{"constructor":{"name":"RegExp"}}',
      '{"constructor":"c","valueOf":1}',
      '{"prototype":{"name":"Object"},"isMongooseArray":true,"toBSON":{"a":1}}',
      '{"roles":{"before":[],"after":{}},"empty":{}}',
    ]) {
      const admin = newId();
      const reply = await t.request('POST', '/internal/audit-logs', { token, raw: report(changes, admin) });
      expect(reply.status, changes).toBe(201);
      const trail = await t.request<{ items: Array<{ changes: unknown }> }>('GET', `/audit-logs?actorId=${admin}`, {
        token: t.as('AUDITOR').token,
      });
      expect(JSON.stringify(trail.body.items.map((item) => item.changes)), changes).toBe(`[${changes}]`);
    }
  });

  it('refuses changes no store keeps as sent with a 400 naming changes, and stores nothing', async () => {
    const token = t.issuer.token('auth-server', [], { audience: 'reward-platform-internal' });
    for (const [changes, message] of [
      ['{"$gt":1}', /^changes keys \(at any depth\) must be non-empty, not start with \$ and contain no dot$/],
      ['{"roles":{"a.b":1}}', /^changes keys/],
      ['{"x":{"$__":1,"_doc":{"a":1}}}', /^changes keys/],
      ['{"roles":{"before":[["USER"]]}}', /^changes must not hold an array directly inside an array$/],
      ['{"constructor":{"n":1e309}}', /^changes must hold only finite numbers/],
      ['{"_bsontype":"x"}', /^changes must not hold a key named _bsontype \(at _bsontype\)$/],
      [
        '{"roles":{"before":[{"_bsontype":"ObjectId"}]}}',
        /^changes must not hold a key named _bsontype \(at roles\.before\[0\]\._bsontype\)$/,
      ],
      ['{"constructor":{"_bsontype":"Date"}}', /^changes must not hold a key named _bsontype \(at constructor\._bsontype\)$/],
    ] as const) {
      const admin = newId();
      const reply = await t.request('POST', '/internal/audit-logs', { token, raw: report(changes, admin) });
      expect(reply.status, changes).toBe(400);
      expect(reply.body, changes).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'VALIDATION_FAILED',
        message: [expect.stringMatching(message)],
      });
      const trail = await t.request<{ total: number }>('GET', `/audit-logs?actorId=${admin}`, { token: t.as('AUDITOR').token });
      expect(trail.body.total, changes).toBe(0);
    }
  });
});
