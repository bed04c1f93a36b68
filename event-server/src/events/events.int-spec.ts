import { getConnectionToken } from '@nestjs/mongoose';
import { type Connection, Types } from 'mongoose';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { expectRefusedLate, holdEditLock, pastStartByWhileWaiting } from '../testing/held-edit-lock.js';
import { EventCatalog } from './event-catalog.js';

const baseEvent = {
  title: 'December login event',
  startAt: '2025-12-01T00:00:00+09:00',
  endAt: '2025-12-31T23:59:59+09:00',
  status: 'ACTIVE',
  approval: 'AUTO',
  condition: { type: 'LOGIN_DAYS', days: 3 },
};

describe('events and rewards', () => {
  let t: EventTestApp;
  let operator: { id: string; token: string };

  beforeAll(async () => {
    t = await startEventTestApp('events');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('creates an event of every condition type, nested, with a default and a chosen time zone', async () => {
    const conditions = [
      { type: 'LOGIN_DAYS', days: 3 },
      { type: 'LOGIN_STREAK', days: 5 },
      { type: 'INVITE_FRIENDS', count: 3 },
      { type: 'QUEST_CLEAR', questId: 'Q-17' },
      { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 10 },
      {
        type: 'ALL',
        conditions: [
          { type: 'QUEST_CLEAR', questId: 'Q-17' },
          {
            type: 'ANY',
            conditions: [
              { type: 'LOGIN_STREAK', days: 5 },
              { type: 'INVITE_FRIENDS', count: 1 },
            ],
          },
        ],
      },
    ];
    for (const condition of conditions) {
      const created = await t.request('POST', '/events', { token: operator.token, body: { ...baseEvent, condition } });
      expect(created.status, condition.type).toBe(201);
      expect(created.body).toMatchObject({
        condition,
        timezone: 'Asia/Seoul',
        createdBy: operator.id,
        startAt: '2025-11-30T15:00:00.000Z',
      });
    }
    const zoned = await t.request('POST', '/events', {
      token: operator.token,
      body: { ...baseEvent, timezone: 'America/New_York' },
    });
    expect(zoned.status).toBe(201);
    expect(zoned.body.timezone).toBe('America/New_York');
  });

  it('refuses bad events with a 400 naming the field, and writes nothing', async () => {
    const before = await t.request<{ total: number }>('GET', '/events?limit=1', { token: operator.token });
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ ...baseEvent, endAt: '2025-11-01T00:00:00Z' }, 'INVALID_PERIOD', /startAt must be before endAt/],
      [{ ...baseEvent, timezone: 'Mars/Base' }, 'INVALID_TIMEZONE', /timezone/],
      [{ ...baseEvent, condition: { type: 'LEVEL_UP' } }, 'INVALID_CONDITION', /condition\.type must be one of/],
      [
        { ...baseEvent, condition: { type: 'ALL', conditions: [{ type: 'LOGIN_DAYS', days: -1 }] } },
        'INVALID_CONDITION',
        /condition\.conditions\[0\]\.days must be a positive integer/,
      ],
      // Keys named after Object.prototype members reach the condition validator like any other unknown field.
      [
        { ...baseEvent, condition: { type: 'LOGIN_DAYS', days: 3, toString: 'x' } },
        'INVALID_CONDITION',
        /condition\.toString is not allowed for LOGIN_DAYS/,
      ],
      [
        { ...baseEvent, condition: { type: 'ANY', conditions: [{ type: 'LOGIN_DAYS', days: 3, constructor: 'x' }] } },
        'INVALID_CONDITION',
        /condition\.conditions\[0\]\.constructor is not allowed for LOGIN_DAYS/,
      ],
      // A _bsontype key (the BSON encoder throws on it) never reaches the store: the validator keeps known fields only.
      [
        { ...baseEvent, condition: { type: 'LOGIN_DAYS', days: 3, _bsontype: 'x' } },
        'INVALID_CONDITION',
        /condition\._bsontype is not allowed for LOGIN_DAYS/,
      ],
      [
        { ...baseEvent, condition: { type: 'QUEST_CLEAR', questId: { _bsontype: 'ObjectId' } } },
        'INVALID_CONDITION',
        /condition\.questId must be a non-empty string/,
      ],
      [{ ...baseEvent, condition: { _bsontype: 'x' } }, 'INVALID_CONDITION', /condition\.type must be one of/],
      [{ ...baseEvent, extra: 1 }, 'VALIDATION_FAILED', /property extra should not exist/],
      [{ ...baseEvent, title: 42 }, 'VALIDATION_FAILED', /title/],
      [{ ...baseEvent, title: '   ' }, 'VALIDATION_FAILED', /title must not be blank/],
      // Characters that show as nothing: zero-width space, word joiner, BOM, a Hangul filler, the blank Braille cell.
      [{ ...baseEvent, title: '\u200b\u2060' }, 'VALIDATION_FAILED', /title must not be blank/],
      [{ ...baseEvent, title: ' \ufeff\u3164\u2800 ' }, 'VALIDATION_FAILED', /title must not be blank/],
      [{ ...baseEvent, status: 'LIVE' }, 'VALIDATION_FAILED', /status/],
      [{ ...baseEvent, startAt: 'yesterday' }, 'VALIDATION_FAILED', /startAt/],
      [
        { ...baseEvent, startAt: '2025-12-01T00:00:00' },
        'VALIDATION_FAILED',
        /startAt must be an ISO-8601 date-time that names its zone/,
      ],
      // ISO-8601 forms JavaScript's Date cannot read (they became an Invalid Date): refused as such, not as a period.
      [{ ...baseEvent, startAt: '20251201T000000Z' }, 'VALIDATION_FAILED', /startAt must be an ISO-8601 date-time/],
      [{ ...baseEvent, endAt: '2026-W01-1T00:00:00Z' }, 'VALIDATION_FAILED', /endAt must be an ISO-8601 date-time/],
      // In year 10000 once in UTC: an answer would write it +010000-01-01T22:59:00.000Z, which no field accepts.
      [
        { ...baseEvent, startAt: '9999-12-31T00:00:00-23:59', endAt: '9999-12-31T23:00:00-23:59' },
        'VALIDATION_FAILED',
        /endAt must fall in the years 0000 to 9999 in UTC/,
      ],
      [
        { ...baseEvent, startAt: '0000-01-01T00:00:00+01:00' },
        'VALIDATION_FAILED',
        /startAt must fall in the years 0000 to 9999/,
      ],
    ];
    for (const [body, code, message] of cases) {
      const reply = await t.request('POST', '/events', { token: operator.token, body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code, JSON.stringify(body)).toBe(code);
      expect(JSON.stringify(reply.body.message)).toMatch(message);
    }
    const after = await t.request<{ total: number }>('GET', '/events?limit=1', { token: operator.token });
    expect(after.body.total).toBe(before.body.total);
    // A title that shows something is taken as sent, joiners inside an emoji included.
    const shown = await t.request<{ title: string }>('POST', '/events', {
      token: operator.token,
      body: { ...baseEvent, title: 'Launch \u{1F469}\u200d\u{1F4BB}' },
    });
    expect(shown.status).toBe(201);
    expect(shown.body.title).toBe('Launch \u{1F469}\u200d\u{1F4BB}');
  });

  it('updates any subset, re-validating the whole event, and audits before/after', async () => {
    const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
    const id = created.body.id;
    const reversed = await t.request('PATCH', `/events/${id}`, {
      token: operator.token,
      body: { startAt: '2026-01-15T00:00:00Z' },
    });
    expect(reversed.status).toBe(400);
    expect(reversed.body.code).toBe('INVALID_PERIOD');
    const marked = await t.request('PATCH', `/events/${id}`, {
      token: operator.token,
      body: { condition: { type: 'ANY', conditions: [{ type: 'LOGIN_DAYS', days: 2, _bsontype: 'x' }] } },
    });
    expect(marked.status).toBe(400);
    expect(marked.body.code).toBe('INVALID_CONDITION');
    expect(JSON.stringify(marked.body.message)).toMatch(/condition\.conditions\[0\]\._bsontype is not allowed for LOGIN_DAYS/);
    // No field takes null: it is not "leave as it is" (that is leaving the field out), nor "clear it".
    for (const body of [
      { description: null },
      { title: null },
      // Only spaces: stored trimmed, the title would be empty (it was saved so).
      { title: '   ' },
      { condition: null },
      { condition: { type: 'ALL', conditions: [null] } },
    ]) {
      const nulled = await t.request('PATCH', `/events/${id}`, { token: operator.token, body });
      expect(nulled.status, JSON.stringify(body)).toBe(400);
      expect(nulled.body.code, JSON.stringify(body)).toBe('VALIDATION_FAILED');
    }
    const created2 = await t.request('POST', '/events', { token: operator.token, body: { ...baseEvent, description: null } });
    expect(created2.status).toBe(400);
    expect(created2.body.message).toEqual(['description must not be null']);

    const updated = await t.request('PATCH', `/events/${id}`, {
      token: operator.token,
      body: { status: 'INACTIVE', title: 'Renamed' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, status: 'INACTIVE', title: 'Renamed', approval: 'AUTO' });

    const auditor = t.as('AUDITOR');
    const trail = await t.request<{ items: Array<Record<string, unknown>> }>('GET', `/audit-logs?targetId=${id}`, {
      token: auditor.token,
    });
    expect(trail.status).toBe(200);
    expect(trail.body.items.map((entry) => entry.action)).toEqual(['EVENT_UPDATED', 'EVENT_CREATED']);
    expect(trail.body.items[0]).toMatchObject({
      actorId: operator.id,
      targetType: 'EVENT',
      changes: { status: { before: 'ACTIVE', after: 'INACTIVE' }, title: { before: 'December login event', after: 'Renamed' } },
    });
    // An actor's id in upper case is the same actor, as ids are everywhere else (/claims?userId, /activities?userId).
    const byActor = await t.request<{ items: Array<Record<string, unknown>> }>(
      'GET',
      `/audit-logs?actorId=${operator.id.toUpperCase()}&targetId=${id}`,
      { token: auditor.token },
    );
    expect(byActor.status).toBe(200);
    expect(byActor.body.items.map((entry) => entry.action)).toEqual(['EVENT_UPDATED', 'EVENT_CREATED']);
  });

  it('refuses a login condition the period cannot meet when an event is made or its period or condition changes, not otherwise', async () => {
    const short = { ...baseEvent, startAt: '2025-12-01T00:00:00+09:00', endAt: '2025-12-02T23:59:59+09:00' };
    const refused = await t.request('POST', '/events', { token: operator.token, body: short });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('INVALID_CONDITION');
    expect(refused.body.message).toEqual([
      'condition.days is 3, more than the 2 local days of the period in Asia/Seoul: nobody could meet it',
    ]);
    const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const shortened = await t.request('PATCH', `/events/${id}`, { token: operator.token, body: { endAt: short.endAt } });
    expect([shortened.status, shortened.body.code]).toEqual([400, 'INVALID_CONDITION']);
    const raised = await t.request('PATCH', `/events/${id}`, {
      token: operator.token,
      body: { condition: { type: 'LOGIN_STREAK', days: 32 } },
    });
    expect([raised.status, raised.body.code]).toEqual([400, 'INVALID_CONDITION']);
    // An event stored before the check (written straight into the store) can still be renamed and deactivated.
    const events = t.app.get<Connection>(getConnectionToken()).collection('events');
    await events.updateOne({ _id: new Types.ObjectId(id) }, { $set: { endAt: new Date(short.endAt) } });
    t.app.get(EventCatalog).invalidate(id);
    const renamed = await t.request('PATCH', `/events/${id}`, {
      token: operator.token,
      body: { title: 'Two-day login event', status: 'INACTIVE' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ title: 'Two-day login event', status: 'INACTIVE' });
  });

  it('applies concurrent changes to one event one after the other: both stand, each audited as it happened', async () => {
    const other = t.as('ADMIN');
    const auditor = t.as('AUDITOR');
    // Several rounds: without one writer at a time, each round is a coin toss between the two changes.
    for (let round = 0; round < 5; round++) {
      const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
      const id = created.body.id;
      const [deactivated, renamed] = await Promise.all([
        t.request('PATCH', `/events/${id}`, { token: other.token, body: { status: 'INACTIVE' } }),
        t.request('PATCH', `/events/${id}`, { token: operator.token, body: { title: `Renamed ${round}` } }),
      ]);
      expect([deactivated.status, renamed.status]).toEqual([200, 200]);
      const stored = await t.request('GET', `/events/${id}`, { token: operator.token });
      expect(stored.body, `round ${round}`).toMatchObject({ status: 'INACTIVE', title: `Renamed ${round}` });
      const trail = await t.request<{ items: Array<{ action: string; changes: Record<string, unknown> }> }>(
        'GET',
        `/audit-logs?targetId=${id}`,
        { token: auditor.token },
      );
      const changes = trail.body.items.filter((entry) => entry.action === 'EVENT_UPDATED').map((entry) => entry.changes);
      // Each entry holds only its own field: the second was merged into what the first wrote.
      expect(changes).toHaveLength(2);
      expect(changes).toEqual(
        expect.arrayContaining([
          { status: { before: 'ACTIVE', after: 'INACTIVE' } },
          { title: { before: 'December login event', after: `Renamed ${round}` } },
        ]),
      );
    }
  });

  it('answers a change that cannot have the event within 5 s 503 with Retry-After, and changes nothing', async () => {
    const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
    const id = created.body.id;
    // Another change holds the event (a live lease), longer than this one waits.
    const leases = t.app
      .get<Connection>(getConnectionToken())
      .collection<{ _id: string; holder: string; expiresAt: Date }>('edit_locks');
    await leases.insertOne({ _id: `event:${id}`, holder: 'another change', expiresAt: new Date(Date.now() + 60_000) });
    const busy = await t.app.inject({
      method: 'PATCH',
      url: `/events/${id}`,
      headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ title: 'Never applied' }),
    });
    await leases.deleteOne({ _id: `event:${id}` });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(JSON.parse(busy.body)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
    expect((await t.request('GET', `/events/${id}`, { token: operator.token })).body).toMatchObject({ title: baseEvent.title });
  });

  it('answers a change whose start-by time passes while it waits for the event 503, and changes nothing', async () => {
    const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
    const id = created.body.id;
    const held = await holdEditLock(t, `event:${id}`);
    const reply = await pastStartByWhileWaiting(held, (headers) =>
      t.app.inject({
        method: 'PATCH',
        url: `/events/${id}`,
        headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json', ...headers },
        payload: JSON.stringify({ title: 'Never applied' }),
      }),
    );
    expectRefusedLate(reply);
    expect((await t.request('GET', `/events/${id}`, { token: operator.token })).body).toMatchObject({ title: baseEvent.title });
    const trail = await t.request<{ items: unknown[] }>('GET', `/audit-logs?targetId=${id}&action=EVENT_UPDATED`, {
      token: t.as('AUDITOR').token,
    });
    expect(trail.body.items).toHaveLength(0);
  });

  it('answers a change that reaches the server past its start-by time 503 with Retry-After, and changes nothing', async () => {
    // The gateway may have answered 504 already: a change made now would be one its client never heard of.
    const late = { [START_BY_HEADER]: String(Date.now() - 1), 'content-type': 'application/json' };
    const title = `Late ${newId()}`;
    const refused = await t.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: `Bearer ${operator.token}`, ...late },
      payload: JSON.stringify({ ...baseEvent, title }),
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
    const events = t.app.get<Connection>(getConnectionToken()).collection('events');
    expect(await events.countDocuments({ title })).toBe(0);
    // The same request within its time is made.
    const inTime = await t.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: `Bearer ${operator.token}`, ...late, [START_BY_HEADER]: String(Date.now() + 60_000) },
      payload: JSON.stringify({ ...baseEvent, title }),
    });
    expect(inTime.statusCode).toBe(201);
    expect(await events.countDocuments({ title })).toBe(1);
  });

  it('attaches rewards with stock and lists them with the event', async () => {
    const created = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
    const id = created.body.id;
    const coupon = await t.request('POST', `/events/${id}/rewards`, {
      token: operator.token,
      body: { type: 'COUPON', name: '10% off', quantity: 1, stock: 10, couponCode: 'XMAS-10' },
    });
    expect(coupon.status).toBe(201);
    expect(coupon.body).toMatchObject({ eventId: id, type: 'COUPON', stock: 10, remaining: 10, couponCode: 'XMAS-10' });
    const points = await t.request('POST', `/events/${id}/rewards`, {
      token: operator.token,
      body: { type: 'POINT', name: 'Points', quantity: 500 },
    });
    expect(points.body).toMatchObject({ stock: null, remaining: null });

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ type: 'POINT', name: 'x', quantity: 1, stock: 0 }, 'VALIDATION_FAILED'],
      [{ type: 'POINT', name: 'x', quantity: 1.5 }, 'VALIDATION_FAILED'],
      [{ type: 'POINT', name: 'x', quantity: -3 }, 'VALIDATION_FAILED'],
      [{ type: 'POINT', name: 'x', quantity: 1, remaining: 5 }, 'VALIDATION_FAILED'],
      [{ type: 'ITEM', name: 'Sword', quantity: 1 }, 'INVALID_REWARD'],
      [{ type: 'POINT', name: 'x', quantity: 1, couponCode: 'C' }, 'INVALID_REWARD'],
      [{ type: 'GEM', name: 'x', quantity: 1 }, 'VALIDATION_FAILED'],
      // Only spaces: stored trimmed, it would be empty (it was a 500).
      [{ type: 'POINT', name: '  \t ', quantity: 1 }, 'VALIDATION_FAILED'],
    ];
    for (const [body, code] of bad) {
      const reply = await t.request('POST', `/events/${id}/rewards`, { token: operator.token, body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code, JSON.stringify(body)).toBe(code);
    }
    // At most 20 rewards: added at once, exactly as many as there is room for, the others 409.
    const full = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
    await t.request('POST', `/events/${full.body.id}/rewards`, {
      token: operator.token,
      body: { type: 'POINT', name: 'first', quantity: 1, stock: 5 },
    });
    const racing = await Promise.all(
      Array.from({ length: 25 }, (_, index) =>
        t.request('POST', `/events/${full.body.id}/rewards`, {
          token: operator.token,
          body: { type: 'POINT', name: `r${index}`, quantity: 1, ...(index % 2 === 0 && { stock: 3 }) },
        }),
      ),
    );
    expect(racing.filter((reply) => reply.status === 201)).toHaveLength(19);
    for (const refused of racing.filter((reply) => reply.status !== 201)) {
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('TOO_MANY_REWARDS');
    }
    const listed = await t.request<unknown[]>('GET', `/events/${full.body.id}/rewards`, { token: operator.token });
    expect(listed.body).toHaveLength(20);
    type Shown = Array<{ type: string; couponCode?: string }>;
    const codesOf = (rewards: Shown) => rewards.map((reward) => reward.couponCode);
    // A player sees the rewards but not the coupon's code (the code is the reward); staff see it.
    const event = await t.request<{ rewards: Shown }>('GET', `/events/${id}`, { token: t.as('USER').token });
    expect(event.status).toBe(200);
    expect(event.body.rewards.map((reward) => reward.type)).toEqual(['COUPON', 'POINT']);
    expect(codesOf(event.body.rewards)).toEqual([undefined, undefined]);
    const rewards = await t.request<Shown>('GET', `/events/${id}/rewards`, { token: t.as('USER').token });
    expect(rewards.body).toHaveLength(2);
    expect(codesOf(rewards.body)).toEqual([undefined, undefined]);
    for (const role of ['OPERATOR', 'AUDITOR', 'ADMIN'] as const) {
      const staff = await t.request<Shown>('GET', `/events/${id}/rewards`, { token: t.as(role).token });
      expect(codesOf(staff.body), role).toEqual(['XMAS-10', undefined]);
      const detail = await t.request<{ rewards: Shown }>('GET', `/events/${id}`, { token: t.as(role).token });
      expect(codesOf(detail.body.rewards), role).toEqual(['XMAS-10', undefined]);
    }
  });

  it('shows a player the event and its rewards as staff see them, in the same fields and order, less coupon codes; an INACTIVE one too; a reward added or changed here at once', async () => {
    const created = await t.request<{ id: string }>('POST', '/events', {
      token: operator.token,
      body: { ...baseEvent, title: 'Same answer', description: 'both', status: 'INACTIVE' },
    });
    const id = created.body.id;
    for (const reward of [
      { type: 'COUPON', name: 'Coupon', quantity: 1, stock: 3, couponCode: 'HIDDEN' },
      { type: 'POINT', name: 'Points', quantity: 100 },
      { type: 'ITEM', name: 'Sled', quantity: 1, stock: 2, itemCode: 'SLED' },
    ]) {
      expect((await t.request('POST', `/events/${id}/rewards`, { token: operator.token, body: reward })).status).toBe(201);
    }
    const player = t.as('USER');
    type Reward = { id: string; name: string; couponCode?: string };
    const withoutCodes = (rewards: Reward[]) => rewards.map(({ couponCode: _code, ...reward }) => reward);
    const views = async () => {
      const [playerEvent, staffEvent, playerRewards, staffRewards] = await Promise.all([
        t.request<{ rewards: Reward[] }>('GET', `/events/${id}`, { token: player.token }),
        t.request<{ rewards: Reward[] }>('GET', `/events/${id}`, { token: operator.token }),
        t.request<Reward[]>('GET', `/events/${id}/rewards`, { token: player.token }),
        t.request<Reward[]>('GET', `/events/${id}/rewards`, { token: operator.token }),
      ]);
      // The same text but for the coupon's code: fields in the same order.
      expect(JSON.stringify(playerEvent.body)).toBe(
        JSON.stringify({ ...staffEvent.body, rewards: withoutCodes(staffEvent.body.rewards) }),
      );
      expect(JSON.stringify(playerRewards.body)).toBe(JSON.stringify(withoutCodes(staffRewards.body)));
      expect(JSON.stringify(playerRewards.body)).toBe(JSON.stringify(playerEvent.body.rewards));
      return playerEvent.body;
    };
    const first = await views();
    expect(first).toMatchObject({ status: 'INACTIVE', description: 'both' });
    expect(first.rewards.map((reward) => reward.name)).toEqual(['Coupon', 'Points', 'Sled']);
    expect(JSON.stringify(first)).not.toContain('HIDDEN');

    // Added and changed through this server: a player's next view shows both.
    const added = await t.request<{ id: string }>('POST', `/events/${id}/rewards`, {
      token: operator.token,
      body: { type: 'CURRENCY', name: 'Gems', quantity: 5, stock: 4 },
    });
    expect(added.status).toBe(201);
    const sled = first.rewards[2]!;
    const changed = await t.request('PATCH', `/events/${id}/rewards/${sled.id}`, {
      token: operator.token,
      body: { name: 'Golden sled', stock: 3 },
    });
    expect(changed.status).toBe(200);
    const after = await views();
    expect(after.rewards.map((reward) => reward.name)).toEqual(['Coupon', 'Points', 'Golden sled', 'Gems']);
    expect(after.rewards[2]).toMatchObject({ stock: 3, remaining: 3 });
  });

  it('filters the list by status and by the instant an event is active at', async () => {
    const march = { ...baseEvent, title: 'March', startAt: '2031-03-01T00:00:00Z', endAt: '2031-03-31T00:00:00Z' };
    await t.request('POST', '/events', { token: operator.token, body: march });
    await t.request('POST', '/events', { token: operator.token, body: { ...march, status: 'INACTIVE' } });
    const active = await t.request<{ items: Array<{ title: string; status: string }>; total: number }>(
      'GET',
      '/events?activeAt=2031-03-15T00:00:00Z&status=ACTIVE',
      {
        token: operator.token,
      },
    );
    expect(active.status).toBe(200);
    expect(active.body.total).toBe(1);
    expect(active.body.items[0]).toMatchObject({ title: 'March', status: 'ACTIVE' });
    expect((await t.request('GET', '/events?limit=0', { token: operator.token })).status).toBe(400);
    expect((await t.request('GET', '/events?status=SOMETIMES', { token: operator.token })).status).toBe(400);
    // An instant without its zone would mean whatever the server's clock zone is; ISO-8601's basic, ordinal
    // and hour-only forms are refused too (JavaScript's Date cannot read them: they were a 500 here).
    for (const path of [
      '/events?activeAt=2031-03-15T00:00:00',
      '/activities?from=2031-03-15T00:00:00',
      '/claims?to=2031-03-15',
      '/events?activeAt=20310315T000000Z',
      '/activities?to=2031-074T00:00:00Z',
      '/claims?from=2031-03-15T00Z',
      '/claims/export?from=20310315T000000Z',
      '/audit-logs?from=20310315T000000Z',
    ]) {
      const unzoned = await t.request('GET', path, {
        token: path.startsWith('/audit-logs') ? t.as('AUDITOR').token : operator.token,
      });
      expect(unzoned.status, path).toBe(400);
      expect(unzoned.body.message, path).toEqual([expect.stringMatching(/must be an ISO-8601 date-time that names its zone/)]);
    }
    // An offset without its colon is read as usual.
    expect((await t.request('GET', '/events?activeAt=2031-03-15T09:00:00%2b0900', { token: operator.token })).status).toBe(200);
    // A zone given in another case is stored as spelled; any other valid name as given (never an older name).
    for (const [given, stored] of [
      ['asia/seoul', 'Asia/Seoul'],
      ['US/Pacific', 'US/Pacific'],
      // Aliases the platform's Intl resolves to another name: spelled as the time zone database does.
      ['asia/kolkata', 'Asia/Kolkata'],
      ['us/pacific', 'US/Pacific'],
      ['europe/kyiv', 'Europe/Kyiv'],
      ['etc/utc', 'Etc/UTC'],
      ['AMERICA/ARGENTINA/BUENOS_AIRES', 'America/Argentina/Buenos_Aires'],
      ['Asia/Kolkata', 'Asia/Kolkata'],
      ['Europe/Kyiv', 'Europe/Kyiv'],
    ]) {
      const zoned = await t.request('POST', '/events', { token: operator.token, body: { ...baseEvent, timezone: given } });
      expect(zoned.status, given).toBe(201);
      expect(zoned.body.timezone, given).toBe(stored);
    }
    const offset = await t.request('POST', '/events', { token: operator.token, body: { ...baseEvent, timezone: '+09:00' } });
    expect(offset.status).toBe(400);
    expect(offset.body.code).toBe('INVALID_TIMEZONE');
  });

  it('answers 400 for a malformed id, 404 for a missing event, 403 for USER and AUDITOR writes, 401 without a token', async () => {
    expect((await t.request('GET', '/events/not-an-id', { token: operator.token })).body.code).toBe('INVALID_ID');
    const missing = await t.request('GET', `/events/${newId()}`, { token: operator.token });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('EVENT_NOT_FOUND');
    for (const role of ['USER', 'AUDITOR']) {
      const reply = await t.request('POST', '/events', { token: t.as(role).token, body: baseEvent });
      expect(reply.status, role).toBe(403);
    }
    expect((await t.request('GET', '/events')).status).toBe(401);
    expect((await t.request('GET', '/audit-logs', { token: operator.token })).status).toBe(403);
  });
});
