import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES, AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../claims/claim.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { AuditLogService } from './audit-log.service.js';

interface Trail {
  items: Array<{ actorId: string; action: string; targetType: string; targetId: string }>;
  total: number;
}

describe('GET /audit-logs filters', () => {
  let t: EventTestApp;
  let auditor: string;

  beforeAll(async () => {
    t = await startEventTestApp('audit_query');
    auditor = t.as('AUDITOR').token;
  });

  afterAll(async () => {
    await t?.close();
  });

  const refused = async (query: string): Promise<unknown> => {
    const reply = await t.request('GET', `/audit-logs?${query}`, { token: auditor });
    expect(reply.status, query).toBe(400);
    expect(reply.body, query).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'VALIDATION_FAILED' });
    return reply.body.message;
  };

  it('refuses an action no entry can have, naming the ones there are', async () => {
    // A typo used to answer 200 with nothing in it: an auditor could not tell "never happened" from "misspelt".
    for (const action of ['EVENT_CRAETED', 'event_created', 'ROLE_CHANGED', 'EVENT_CREATED%20']) {
      expect(await refused(`action=${action}`)).toEqual([
        `action must be one of the following values: ${AUDIT_ACTIONS.join(', ')}`,
      ]);
    }
    expect(AUDIT_ACTIONS).toContain('USER_ROLES_CHANGED');
    expect(AUDIT_ACTIONS).toContain('WEBHOOK_SECRET_ROTATED');
  });

  it('refuses a targetType no entry can have, naming the ones there are', async () => {
    expect(await refused('targetType=EVENTS')).toEqual([
      `targetType must be one of the following values: ${AUDIT_TARGET_TYPES.join(', ')}`,
    ]);
  });

  it('finds the entries of one action and target type', async () => {
    const operator = t.as('OPERATOR');
    const body = {
      title: 'Audit filter event',
      startAt: '2031-01-01T00:00:00Z',
      endAt: '2031-01-08T00:00:00Z',
      status: 'ACTIVE',
      approval: 'AUTO',
      condition: { type: 'LOGIN_DAYS', days: 1 },
    };
    const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body });
    expect(created.status).toBe(201);
    const found = await t.request<Trail>(
      'GET',
      `/audit-logs?actorId=${operator.id}&action=${AuditAction.EVENT_CREATED}&targetType=${AuditTargetType.EVENT}`,
      { token: auditor },
    );
    expect(found.status).toBe(200);
    expect(found.body.items).toEqual([
      expect.objectContaining({ actorId: operator.id, action: 'EVENT_CREATED', targetType: 'EVENT', targetId: created.body.id }),
    ]);
    const none = await t.request<Trail>('GET', `/audit-logs?actorId=${operator.id}&action=${AuditAction.EVENT_UPDATED}`, {
      token: auditor,
    });
    expect(none.body.total).toBe(0);
  });

  it('finds what the platform changed by itself under actorId=system, and refuses any other non-id actor', async () => {
    const targetId = newId();
    // As the payout relay records an endpoint it turned off after a 410 Gone.
    await t.app.get(AuditLogService).record({
      actorId: SYSTEM_ACTOR,
      action: AuditAction.WEBHOOK_ENDPOINT_UPDATED,
      targetType: AuditTargetType.WEBHOOK_ENDPOINT,
      targetId,
      changes: { enabled: { before: true, after: false } },
    });
    for (const actorId of ['system', 'SYSTEM']) {
      const trail = await t.request<Trail>('GET', `/audit-logs?actorId=${actorId}&limit=100`, { token: auditor });
      expect(trail.status, actorId).toBe(200);
      expect(
        trail.body.items.filter((entry) => entry.targetId === targetId),
        actorId,
      ).toEqual([expect.objectContaining({ actorId: 'system', action: 'WEBHOOK_ENDPOINT_UPDATED' })]);
    }
    for (const actorId of ['systems', 'admin', '64b7f0c2a1b2c3d4e5f6071', '64b7f0c2a1b2c3d4e5f60718system']) {
      expect(await refused(`actorId=${actorId}`)).toEqual(['actorId must be a valid user id or system']);
    }
  });

  it('finds a target by its id in any case, and an import by its externalId as written', async () => {
    const operator = t.as('OPERATOR');
    const body = {
      title: 'Audit target case',
      startAt: '2031-01-01T00:00:00Z',
      endAt: '2031-01-08T00:00:00Z',
      status: 'INACTIVE',
      approval: 'AUTO',
      condition: { type: 'LOGIN_DAYS', days: 1 },
    };
    const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const mixed = `${id.slice(0, 12)}${id.slice(12).toUpperCase()}`;
    for (const query of [id, id.toUpperCase(), mixed, `${id.toUpperCase()}&targetType=EVENT`]) {
      const trail = await t.request<Trail>('GET', `/audit-logs?targetId=${query}`, { token: auditor });
      expect(trail.status, query).toBe(200);
      expect(trail.body.items, query).toEqual([expect.objectContaining({ action: 'EVENT_CREATED', targetId: id })]);
    }
    // An externalId that looks like an id is case-sensitive: two imports whose ids differ in case only are two.
    const externalId = 'ABCDEF0123456789ABCDEF01';
    for (const each of [externalId, externalId.toLowerCase()]) {
      const imported = await t.request('POST', '/activities', {
        token: operator.token,
        body: { userId: newId(), type: 'BOSS_KILL', externalId: each },
      });
      expect(imported.status).toBe(201);
    }
    for (const each of [externalId, externalId.toLowerCase()]) {
      for (const query of [each, `${each}&targetType=ACTIVITY_IMPORT`]) {
        const trail = await t.request<Trail>('GET', `/audit-logs?targetId=${query}`, { token: auditor });
        expect(trail.body.items, query).toEqual([expect.objectContaining({ action: 'ACTIVITIES_IMPORTED', targetId: each })]);
      }
    }
  });

  it('finds an import by an externalId of any length the import accepts', async () => {
    const operator = t.as('OPERATOR');
    const externalId = `sheet-${'x'.repeat(122)}`;
    expect(externalId).toHaveLength(128);
    const single = await t.request('POST', '/activities', {
      token: operator.token,
      body: { userId: newId(), type: 'QUEST_CLEAR', attributes: { questId: 'q1' }, externalId },
    });
    expect(single.status).toBe(201);
    const batchIds = [`${externalId.slice(0, -1)}a`, `${externalId.slice(0, -1)}b`];
    const batch = await t.request('POST', '/activities', {
      token: operator.token,
      body: { items: batchIds.map((id) => ({ userId: newId(), type: 'BOSS_KILL', externalId: id })) },
    });
    expect(batch.status).toBe(201);
    for (const targetId of [externalId, `batch:${batchIds[0]}+1`]) {
      const trail = await t.request<Trail>('GET', `/audit-logs?targetId=${encodeURIComponent(targetId)}`, { token: auditor });
      expect(trail.status, targetId).toBe(200);
      expect(trail.body.items, targetId).toEqual([
        expect.objectContaining({ actorId: operator.id, action: 'ACTIVITIES_IMPORTED', targetType: 'ACTIVITY_IMPORT', targetId }),
      ]);
    }
    expect(await refused(`targetId=${'x'.repeat(161)}`)).toEqual(['targetId must be shorter than or equal to 160 characters']);
  });

  it('answers a bad time range or page with a 400 that says what is wrong', async () => {
    expect(await refused('from=2031-01-02T00:00:00Z&to=2031-01-01T00:00:00Z')).toEqual(['from must not be after to']);
    expect(await refused('from=yesterday')).toContainEqual(expect.stringMatching(/^from must be an ISO-8601 date-time/));
    expect(await refused('to=2031-01-01')).toEqual([
      expect.stringMatching(/^to must be an ISO-8601 date-time that names its zone/),
    ]);
    expect(await refused('page=0')).toEqual([expect.stringMatching(/^page must not be less than 1/)]);
    expect(await refused('limit=101')).toEqual([expect.stringMatching(/^limit must not be greater than 100/)]);
    expect(await refused('limit=ten')).toContain('limit must be an integer number');
    expect(await refused('colour=red')).toEqual([expect.stringMatching(/colour/)]);
    // An offset's + written unencoded in a query reads as a space: the answer says so, not "name its zone like +09:00".
    for (const query of ['from=2031-01-01T09:00:00+09:00', 'to=2031-01-01T09:00+0900']) {
      const field = query.slice(0, query.indexOf('='));
      expect(await refused(query)).toContain(
        `${field} has a space where its offset's + belongs: in a URL's query a + reads as a space, so write it %2B (2031-01-01T09:00:00%2B09:00)`,
      );
    }
    expect(await t.request('GET', '/audit-logs?from=2031-01-01T09:00:00%2B09:00', { token: auditor })).toMatchObject({
      status: 200,
    });
    // A filter given twice is not a list of values: refused, never a 500.
    for (const twice of [
      'action=EVENT_CREATED&action=EVENT_UPDATED',
      'targetType=EVENT&targetType=CLAIM',
      'actorId=system&actorId=system',
      'targetId=a&targetId=b',
      'from=2031-01-01T00:00:00Z&from=2031-01-02T00:00:00Z',
    ]) {
      await refused(twice);
    }
  });
});
