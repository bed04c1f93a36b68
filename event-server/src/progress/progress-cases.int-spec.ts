import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';

describe('progress and claims agree: edges of the period, composites, marks', () => {
  let t: EventTestApp;
  let operator: { id: string; token: string };

  beforeAll(async () => {
    t = await startEventTestApp('progress_cases');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  const HOUR = 3_600_000;

  async function createEvent(condition: unknown, startAt: Date, endAt: Date, timezone = 'Asia/Seoul'): Promise<string> {
    const reply = await t.request<{ id: string }>('POST', '/events', {
      token: operator.token,
      body: { title: 'e', startAt, endAt, status: 'ACTIVE', approval: 'AUTO', timezone, condition },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body.id;
  }

  async function both(eventId: string, player: { id: string; token: string }) {
    const progress = await t.request<{ eligible: boolean; conditions: unknown[] }>('GET', `/events/${eventId}/progress`, {
      token: player.token,
    });
    const claimed = await t.request('POST', `/events/${eventId}/claims`, { token: player.token });
    return { progress: progress.body, claim: { status: claimed.status, code: claimed.body.code, st: claimed.body.status } };
  }

  it('activities exactly at startAt and endAt count, a millisecond outside does not (logins by marks too)', async () => {
    // A period starting and ending inside quarter hours.
    const base = Math.floor((Date.now() - 10 * HOUR) / 900_000) * 900_000;
    const startAt = new Date(base + 7 * 60_000 + 123);
    const endAt = new Date(Date.now() + 48 * HOUR);
    const player = t.as('USER');
    await t.request('POST', '/activities', {
      token: operator.token,
      body: {
        items: [
          // Same quarter hour as startAt, first one outside (it is the mark's login), second exactly at startAt.
          { userId: player.id, type: 'LOGIN', occurredAt: new Date(startAt.getTime() - 1).toISOString() },
          { userId: player.id, type: 'LOGIN', occurredAt: startAt.toISOString() },
          { userId: player.id, type: 'QUEST_CLEAR', occurredAt: startAt.toISOString(), attributes: { questId: 'q1' } },
          {
            userId: player.id,
            type: 'QUEST_CLEAR',
            occurredAt: new Date(startAt.getTime() - 1).toISOString(),
            attributes: { questId: 'q2' },
          },
          { userId: player.id, type: 'BOSS', occurredAt: startAt.toISOString() },
          { userId: player.id, type: 'BOSS', occurredAt: new Date(startAt.getTime() - 1).toISOString() },
        ],
      },
    });
    const cases: Array<[unknown, boolean]> = [
      [{ type: 'LOGIN_DAYS', days: 1 }, true],
      [{ type: 'LOGIN_STREAK', days: 1 }, true],
      [{ type: 'QUEST_CLEAR', questId: 'q1' }, true],
      [{ type: 'QUEST_CLEAR', questId: 'q2' }, false],
      [
        {
          type: 'ALL',
          conditions: [
            { type: 'QUEST_CLEAR', questId: 'q1' },
            { type: 'QUEST_CLEAR', questId: 'q2' },
          ],
        },
        false,
      ],
      [
        {
          type: 'ANY',
          conditions: [
            { type: 'QUEST_CLEAR', questId: 'q1' },
            { type: 'QUEST_CLEAR', questId: 'q2' },
          ],
        },
        true,
      ],
      [{ type: 'ACTIVITY_COUNT', activity: 'BOSS', count: 1 }, true],
      [{ type: 'ACTIVITY_COUNT', activity: 'BOSS', count: 2 }, false],
      [{ type: 'ACTIVITY_COUNT', activity: 'LOGIN', count: 1 }, true],
      [{ type: 'ACTIVITY_COUNT', activity: 'LOGIN', count: 2 }, false],
      [
        {
          type: 'ALL',
          conditions: [
            { type: 'LOGIN_DAYS', days: 1 },
            { type: 'ACTIVITY_COUNT', activity: 'LOGIN', count: 2 },
          ],
        },
        false,
      ],
      [
        {
          type: 'ALL',
          conditions: [
            { type: 'LOGIN_DAYS', days: 1 },
            { type: 'ACTIVITY_COUNT', activity: 'QUEST_CLEAR', count: 1 },
            { type: 'QUEST_CLEAR', questId: 'q1' },
          ],
        },
        true,
      ],
      [
        {
          type: 'ANY',
          conditions: [
            {
              type: 'ALL',
              conditions: [
                { type: 'LOGIN_DAYS', days: 1 },
                { type: 'ACTIVITY_COUNT', activity: 'QUEST_CLEAR', count: 2 },
              ],
            },
            { type: 'INVITE_FRIENDS', count: 1 },
          ],
        },
        false,
      ],
    ];
    const failures: unknown[] = [];
    for (const [condition, expected] of cases) {
      const eventId = await createEvent(condition, startAt, endAt);
      const { progress, claim } = await both(eventId, player);
      const claimEligible = claim.status === 201;
      if (progress.eligible !== expected || claimEligible !== expected) failures.push({ condition, progress, claim });
    }
    expect(failures).toEqual([]);
  });

  it('activities exactly at endAt count; after endAt not (event already ended: progress only)', async () => {
    const player = t.as('USER');
    const endAt = new Date(Date.now() - HOUR + 7 * 60_000 + 5);
    const startAt = new Date(endAt.getTime() - 5 * HOUR);
    await t.request('POST', '/activities', {
      token: operator.token,
      body: {
        items: [
          { userId: player.id, type: 'LOGIN', occurredAt: new Date(endAt.getTime() + 1).toISOString() },
          { userId: player.id, type: 'LOGIN', occurredAt: endAt.toISOString() },
        ],
      },
    });
    const eventId = await createEvent({ type: 'LOGIN_DAYS', days: 1 }, startAt, endAt);
    const progress = await t.request<{ eligible: boolean }>('GET', `/events/${eventId}/progress`, { token: player.token });
    expect(progress.body.eligible).toBe(true);
    const other = t.as('USER');
    await t.request('POST', '/activities', {
      token: operator.token,
      body: { items: [{ userId: other.id, type: 'LOGIN', occurredAt: new Date(endAt.getTime() + 1).toISOString() }] },
    });
    const none = await t.request<{ eligible: boolean }>('GET', `/events/${eventId}/progress`, { token: other.token });
    expect(none.body.eligible).toBe(false);
  });
});
