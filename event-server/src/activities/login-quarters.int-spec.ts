import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { marksOf, recordLoginsWithoutMarks, storeOf } from '../testing/login-test-kit.js';
import { ActivityRepository } from './activity.repository.js';
import { LoginMarkSweep } from './login-mark-sweep.js';

/**
 * Login conditions read one mark per quarter hour in which a player logged in, not every login. The marks
 * must answer exactly what every login would: on the quarter hours an event's start or end cuts in two,
 * after a repeated import, and for logins recorded before the marks existed.
 */
describe('login quarter-hour marks', () => {
  let t: EventTestApp;
  let operator: { id: string; token: string };

  beforeAll(async () => {
    t = await startEventTestApp('login_quarters');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  async function logins(items: Array<{ userId: string; occurredAt: string; externalId?: string }>): Promise<void> {
    const reply = await t.request('POST', '/activities', {
      token: operator.token,
      body: { items: items.map((item) => ({ type: 'LOGIN', ...item })) },
    });
    expect(reply.status).toBe(201);
  }

  async function loginEvent(startAt: string, endAt: string, days: number, timezone = 'UTC'): Promise<string> {
    const reply = await t.request<{ id: string }>('POST', '/events', {
      token: operator.token,
      body: {
        title: 'logins',
        startAt,
        endAt,
        status: 'ACTIVE',
        approval: 'AUTO',
        timezone,
        condition: { type: 'LOGIN_DAYS', days },
      },
    });
    expect(reply.status).toBe(201);
    return reply.body.id;
  }

  async function daysOf(app: EventTestApp, eventId: string, userId: string): Promise<number> {
    const reply = await app.request<{ conditions: Array<{ current: number }> }>(
      'GET',
      `/events/${eventId}/progress?userId=${userId}`,
      {
        token: app.as('OPERATOR').token,
      },
    );
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body.conditions[0]!.current;
  }

  it('marks many logins of a quarter hour once, and counts the same local days', async () => {
    const player = newId();
    // 120 logins in two quarter hours of Dec 3 and one on Dec 4.
    await logins([
      ...Array.from({ length: 60 }, (_, i) => ({
        userId: player,
        occurredAt: `2025-12-03T10:00:${String(i).padStart(2, '0')}Z`,
      })),
      ...Array.from({ length: 60 }, (_, i) => ({
        userId: player,
        occurredAt: `2025-12-03T10:${String(15 + (i % 15)).padStart(2, '0')}:00Z`,
      })),
      { userId: player, occurredAt: '2025-12-04T23:59:59.999Z' },
    ]);
    expect(await marksOf(t, player)).toBe(3);
    const event = await loginEvent('2025-12-01T00:00:00Z', '2025-12-31T00:00:00Z', 2);
    expect(await daysOf(t, event, player)).toBe(2);
  });

  it("decides the quarter hours the event's start and end cut in two by the logins inside the period", async () => {
    // Starts at 00:07 on Dec 1 (inside the quarter hour 00:00–00:15), ends at 10:07 on Dec 3.
    const event = await loginEvent('2025-12-01T00:07:00Z', '2025-12-03T10:07:00Z', 3);
    const [before, beforeThenIn, inside, afterThenIn, after] = Array.from({ length: 5 }, () => newId());
    const fullDay = (userId: string) => ({ userId, occurredAt: '2025-12-02T12:00:00Z' });
    // Imported in this order, the first login of each quarter hour is its mark's.
    await logins([{ userId: before, occurredAt: '2025-12-01T00:02:00Z' }, fullDay(before)]);
    await logins([{ userId: beforeThenIn, occurredAt: '2025-12-01T00:02:00Z' }]);
    await logins([{ userId: beforeThenIn, occurredAt: '2025-12-01T00:10:00Z' }, fullDay(beforeThenIn)]);
    await logins([
      { userId: inside, occurredAt: '2025-12-01T00:07:00Z' },
      { userId: inside, occurredAt: '2025-12-03T10:07:00Z' },
    ]);
    await logins([{ userId: afterThenIn, occurredAt: '2025-12-03T10:12:00Z' }]);
    await logins([{ userId: afterThenIn, occurredAt: '2025-12-03T10:01:00Z' }, fullDay(afterThenIn)]);
    await logins([{ userId: after, occurredAt: '2025-12-03T10:12:00Z' }, fullDay(after)]);

    expect(await daysOf(t, event, before)).toBe(1);
    expect(await daysOf(t, event, beforeThenIn)).toBe(2);
    expect(await daysOf(t, event, inside)).toBe(2);
    expect(await daysOf(t, event, afterThenIn)).toBe(2);
    expect(await daysOf(t, event, after)).toBe(1);
  });

  it('counts logins (a capped count) beside their days (the marks) exactly, without reading every login', async () => {
    const create = await t.request<{ id: string }>('POST', '/events', {
      token: operator.token,
      body: {
        title: 'login days and count',
        // Starts at 00:07 on Dec 1, inside the quarter hour 00:00-00:15 (a probe reads the logins of its cut part).
        startAt: '2025-12-01T00:07:00Z',
        endAt: '2025-12-31T00:00:00Z',
        status: 'ACTIVE',
        approval: 'AUTO',
        timezone: 'UTC',
        condition: {
          type: 'ALL',
          conditions: [
            { type: 'LOGIN_DAYS', days: 2 },
            { type: 'ACTIVITY_COUNT', activity: 'LOGIN', count: 3 },
          ],
        },
      },
    });
    expect(create.status).toBe(201);
    const progressOf = async (userId: string) => {
      const reply = await t.request<{ eligible: boolean; conditions: Array<{ current: number }> }>(
        'GET',
        `/events/${create.body.id}/progress?userId=${userId}`,
        { token: operator.token },
      );
      expect(reply.status).toBe(200);
      return [reply.body.conditions.map((leaf) => leaf.current), reply.body.eligible];
    };
    const [frequent, twoDays, oneQuarter, cut] = Array.from({ length: 4 }, () => newId());
    // 200 logins in one quarter hour of each of two days: two days, the count capped at 3.
    await logins(
      Array.from({ length: 200 }, (_, i) => ({
        userId: frequent,
        occurredAt: new Date(
          Date.parse(i < 100 ? '2025-12-02T10:00:00Z' : '2025-12-03T10:00:00Z') + (i % 100) * 1000,
        ).toISOString(),
      })),
    );
    // Each login is both a mark's and a counted one: counted once (2, not 4).
    await logins([
      { userId: twoDays, occurredAt: '2025-12-02T10:00:00Z' },
      { userId: twoDays, occurredAt: '2025-12-03T10:00:00Z' },
    ]);
    await logins(['10:00:01', '10:00:02', '10:00:03'].map((at) => ({ userId: oneQuarter, occurredAt: `2025-12-02T${at}Z` })));
    // The quarter hour cut by the start: its mark's login is before the start, the probe finds the one after.
    await logins([{ userId: cut, occurredAt: '2025-12-01T00:02:00Z' }]);
    await logins([
      { userId: cut, occurredAt: '2025-12-01T00:10:00Z' },
      { userId: cut, occurredAt: '2025-12-02T10:00:00Z' },
    ]);
    expect(await progressOf(frequent)).toEqual([[2, 3], true]);
    expect(await progressOf(twoDays)).toEqual([[2, 2], false]);
    expect(await progressOf(oneQuarter)).toEqual([[1, 3], false]);
    expect(await progressOf(cut)).toEqual([[2, 2], false]);
    // What was read for the frequent player: a fact per marked quarter hour (2) and a count of 3, not 200 logins.
    const read = vi.spyOn(ActivityRepository.prototype, 'findFacts');
    await progressOf(frequent);
    const { facts, counts } = (await read.mock.results[0]!.value) as { facts: unknown[]; counts: Map<string, number> };
    read.mockRestore();
    // A login per marked quarter hour (2: this player has no login in the quarter hour the start cuts), and the
    // logins counted by the store up to 3 (no login sent for the count).
    expect(facts).toHaveLength(2);
    expect(counts).toEqual(new Map([['LOGIN', 3]]));
  });

  it('reads every login of a period whose local days do not start on quarter hours', async () => {
    const player = newId();
    // Liberia kept UTC-0:44:30 until 1972: 00:31Z and 00:44:40Z on June 1 are 23:46:30 on May 31 and
    // 00:00:10 on June 1 there, two local days in one UTC quarter hour.
    await logins([
      { userId: player, occurredAt: '1971-06-01T00:31:00Z' },
      { userId: player, occurredAt: '1971-06-01T00:44:40Z' },
    ]);
    const event = await loginEvent('1971-05-20T00:00:00Z', '1971-06-10T00:00:00Z', 2, 'Africa/Monrovia');
    expect(await daysOf(t, event, player)).toBe(2);
  });

  it('marks a repeated login with the instant recorded first, not the one repeated', async () => {
    const player = newId();
    const externalId = `login-${newId()}`;
    await logins([{ userId: player, occurredAt: '2025-11-30T23:00:00Z', externalId }]);
    // The same login sent again with another instant is a duplicate: nothing recorded inside the period.
    await logins([{ userId: player, occurredAt: '2025-12-02T09:00:00Z', externalId }]);
    const event = await loginEvent('2025-12-01T00:00:00Z', '2025-12-31T00:00:00Z', 1);
    expect(await daysOf(t, event, player)).toBe(0);
    const marks = await storeOf(t).collection('login_quarters').find({ userId: player }).toArray();
    expect(marks.map((mark) => (mark.at as Date).toISOString())).toEqual(['2025-11-30T23:00:00.000Z']);
  });

  it('marks, on its first start, the logins a database recorded before marks existed', async () => {
    const player = newId();
    const event = await loginEvent('2025-12-01T00:00:00Z', '2025-12-31T00:00:00Z', 3);
    await recordLoginsWithoutMarks(t, player, [
      '2025-12-05T01:00:00Z',
      '2025-12-05T02:00:00Z',
      '2025-12-06T01:00:00Z',
      '2025-12-07T01:00:00Z',
    ]);
    // As on a database where no sweep ever ran.
    await storeOf(t)
      .collection('migrations')
      .deleteOne({ _id: 'login-quarters' as never });
    expect(await daysOf(t, event, player)).toBe(0);

    const restarted = await startEventTestApp('login_quarters', { EVENT_DB_NAME: storeOf(t).databaseName });
    try {
      expect(await daysOf(restarted, event, player)).toBe(3);
      expect(await marksOf(t, player)).toBe(4);
      expect(
        await storeOf(t)
          .collection('migrations')
          .countDocuments({ _id: 'login-quarters' as never }),
      ).toBe(1);
    } finally {
      await restarted.close();
    }
  });

  it('marks a login recorded without its mark since the last sweep (a crash between the two inserts, an older replica)', async () => {
    const player = newId();
    const event = await loginEvent('2025-12-01T00:00:00Z', '2025-12-31T00:00:00Z', 1);
    await recordLoginsWithoutMarks(t, player, ['2025-12-09T08:00:00Z']);
    expect(await marksOf(t, player)).toBe(0);
    // The next start's sweep reads what was recorded since the last one (in the background: the database
    // has a record of an earlier sweep, so the server does not wait for it; sweep() joins it).
    const restarted = await startEventTestApp('login_quarters', { EVENT_DB_NAME: storeOf(t).databaseName });
    try {
      await restarted.app.get(LoginMarkSweep).sweep();
      expect(await daysOf(restarted, event, player)).toBe(1);
    } finally {
      await restarted.close();
    }
    // And a running server's own sweep, every LOGIN_MARK_SWEEP_MS, without a restart.
    const sweeping = await startEventTestApp('login_quarters', {
      EVENT_DB_NAME: storeOf(t).databaseName,
      LOGIN_MARK_SWEEP_MS: '50',
    });
    try {
      const later = newId();
      await recordLoginsWithoutMarks(sweeping, later, ['2025-12-10T08:00:00Z']);
      await vi.waitFor(async () => expect(await marksOf(sweeping, later)).toBe(1), {
        timeout: 60_000,
        interval: 50,
      });
      expect(await daysOf(sweeping, event, later)).toBe(1);
    } finally {
      await sweeping.close();
    }
  });
});
