import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { holdNextCall } from '../../../test-support/hold-next-call.js';
import { ActivityRepository } from '../activities/activity.repository.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';

describe('progress', () => {
  let t: EventTestApp;
  let operator: { id: string; token: string };

  beforeAll(async () => {
    t = await startEventTestApp('progress');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  async function createEvent(condition: unknown, timezone = 'Asia/Seoul'): Promise<string> {
    const reply = await t.request<{ id: string }>('POST', '/events', {
      token: operator.token,
      body: {
        title: 'e',
        startAt: '2025-12-01T00:00:00Z',
        endAt: '2025-12-31T00:00:00Z',
        status: 'ACTIVE',
        approval: 'AUTO',
        timezone,
        condition,
      },
    });
    expect(reply.status).toBe(201);
    return reply.body.id;
  }

  it("counts login days across a midnight of the event's zone, not of UTC", async () => {
    const player = t.as('USER');
    // 14:30Z and 15:30Z on Dec 5 are 23:30 on Dec 5 and 00:30 on Dec 6 in Seoul; one day in UTC.
    await t.request('POST', '/activities', {
      token: operator.token,
      body: {
        items: [
          { userId: player.id, type: 'LOGIN', occurredAt: '2025-12-05T14:30:00Z' },
          { userId: player.id, type: 'LOGIN', occurredAt: '2025-12-05T15:30:00Z' },
          // Outside the period: does not count.
          { userId: player.id, type: 'LOGIN', occurredAt: '2025-11-20T12:00:00Z' },
        ],
      },
    });
    const seoul = await createEvent({ type: 'LOGIN_DAYS', days: 2 });
    const utc = await createEvent({ type: 'LOGIN_DAYS', days: 2 }, 'UTC');
    const mine = await t.request('GET', `/events/${seoul}/progress`, { token: player.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({
      eventId: seoul,
      userId: player.id,
      eligible: true,
      conditions: [{ type: 'LOGIN_DAYS', required: 2, current: 2, met: true }],
    });
    const inUtc = await t.request('GET', `/events/${utc}/progress`, { token: player.token });
    expect(inUtc.body).toMatchObject({ eligible: false, conditions: [{ current: 1, met: false }] });
  });

  it('counts a quest clear whose questId was imported in another Unicode composition than the condition names it', async () => {
    const player = t.as('USER');
    // The operator types the quest in NFC (한-café); the game's spreadsheet, saved on a Mac, sends it in NFD.
    const nfc = await createEvent({ type: 'QUEST_CLEAR', questId: '\ud55c-caf\u00e9' });
    const nfd = await createEvent({ type: 'QUEST_CLEAR', questId: '\u1112\u1161\u11ab-cafe\u0301' });
    const imported = await t.request('POST', '/activities', {
      token: operator.token,
      body: {
        userId: player.id,
        type: 'QUEST_CLEAR',
        occurredAt: '2025-12-10T00:00:00Z',
        attributes: { questId: '\u1112\u1161\u11ab-cafe\u0301' },
      },
    });
    expect(imported.status).toBe(201);
    for (const event of [nfc, nfd]) {
      const progress = await t.request('GET', `/events/${event}/progress`, { token: player.token });
      expect(progress.status).toBe(200);
      expect(progress.body).toMatchObject({
        eligible: true,
        conditions: [{ type: 'QUEST_CLEAR', met: true, questId: '\ud55c-caf\u00e9' }],
      });
    }
  });

  it('lets OPERATOR dry-run another user, and refuses a USER asking about someone else', async () => {
    const player = t.as('USER');
    const event = await createEvent({
      type: 'ALL',
      conditions: [
        { type: 'QUEST_CLEAR', questId: 'Q-17' },
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 2 },
      ],
    });
    await t.request('POST', '/activities', {
      token: operator.token,
      body: {
        items: [{ userId: player.id, type: 'QUEST_CLEAR', occurredAt: '2025-12-10T00:00:00Z', attributes: { questId: 'Q-17' } }],
      },
    });
    const dryRun = await t.request('GET', `/events/${event}/progress?userId=${player.id}`, { token: operator.token });
    expect(dryRun.status).toBe(200);
    expect(dryRun.body).toMatchObject({
      userId: player.id,
      eligible: false,
      conditions: [
        { type: 'QUEST_CLEAR', met: true },
        { type: 'ACTIVITY_COUNT', required: 2, current: 0, met: false },
      ],
    });
    const nosy = await t.request('GET', `/events/${event}/progress?userId=${newId()}`, { token: player.token });
    expect(nosy.status).toBe(403);
    expect((await t.request('GET', `/events/${event}/progress?userId=${player.id}`, { token: player.token })).status).toBe(200);
    expect((await t.request('GET', `/events/${newId()}/progress`, { token: player.token })).status).toBe(404);
    expect((await t.request('GET', `/events/${event}/progress?userId=nope`, { token: operator.token })).status).toBe(400);
  });

  it('counts a counted type only up to what the condition asks (the answer is the same), and reads none outside the period', async () => {
    const player = t.as('USER');
    const event = await createEvent({ type: 'ACTIVITY_COUNT', activity: 'PVP_WIN', count: 3 });
    const wins = (day: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        userId: player.id,
        type: 'PVP_WIN',
        occurredAt: `2025-12-${String(day).padStart(2, '0')}T0${i % 10}:00:00Z`,
      }));
    await t.request('POST', '/activities', { token: operator.token, body: { items: [...wins(10, 2)] } });
    const short = await t.request('GET', `/events/${event}/progress`, { token: player.token });
    expect(short.body).toMatchObject({
      eligible: false,
      conditions: [{ type: 'ACTIVITY_COUNT', required: 3, current: 2, met: false }],
    });
    await t.request('POST', '/activities', { token: operator.token, body: { items: [...wins(11, 8)] } });
    const plenty = await t.request('GET', `/events/${event}/progress`, { token: player.token });
    expect(plenty.body).toMatchObject({
      eligible: true,
      conditions: [{ type: 'ACTIVITY_COUNT', required: 3, current: 3, met: true }],
    });
  });
});

describe('progress under a flood', () => {
  let t: EventTestApp;

  beforeAll(async () => {
    // One read at a time and no queue: while one is held, every other player's is turned away.
    t = await startEventTestApp('progress_flood', { PROGRESS_MAX_IN_FLIGHT: '1', PROGRESS_MAX_QUEUED: '0' });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers reads past what it makes at once 503 PROGRESS_BUSY with Retry-After at once, and serves them after', async () => {
    const operator = t.as('OPERATOR');
    const created = await t.request<{ id: string }>('POST', '/events', {
      token: operator.token,
      body: {
        title: 'flood',
        startAt: '2025-12-01T00:00:00Z',
        endAt: '2025-12-31T00:00:00Z',
        status: 'ACTIVE',
        approval: 'AUTO',
        condition: { type: 'ACTIVITY_COUNT', activity: 'PVP_WIN', count: 3 },
      },
    });
    const [first, second] = [t.as('USER'), t.as('USER')];
    const held = holdNextCall(t.app.get(ActivityRepository), 'findFacts');
    const view = (who: { token: string }) => t.request('GET', `/events/${created.body.id}/progress`, { token: who.token });
    const holding = view(first);
    await vi.waitFor(() => expect(held.reached()).toBe(true), { timeout: 10_000, interval: 5 });
    const turnedAway = await t.app.inject({
      method: 'GET',
      url: `/events/${created.body.id}/progress`,
      headers: { authorization: `Bearer ${second.token}` },
    });
    expect(turnedAway.statusCode).toBe(503);
    expect(turnedAway.json()).toMatchObject({ code: 'PROGRESS_BUSY' });
    expect(Number(turnedAway.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(held.calls()).toBe(1);
    held.release();
    expect((await holding).status).toBe(200);
    expect((await view(second)).body).toMatchObject({ userId: second.id, eligible: false });
  });
});

describe("one player's progress reads at once", () => {
  let t: EventTestApp;

  beforeAll(async () => {
    // Room in the gate for every read here: only the per-player bound (2, the default) turns one away.
    t = await startEventTestApp('progress_player', { PROGRESS_MAX_IN_FLIGHT: '4', PROGRESS_MAX_QUEUED: '0' });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  it("answers a player's third check at once (of a third event) 429 TOO_MANY_REQUESTS with Retry-After, nothing read, while another player's passes", async () => {
    const operator = t.as('OPERATOR');
    const events = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const created = await t.request<{ id: string }>('POST', '/events', {
          token: operator.token,
          body: {
            title: 'poll',
            startAt: '2025-12-01T00:00:00Z',
            endAt: '2025-12-31T00:00:00Z',
            status: 'ACTIVE',
            approval: 'AUTO',
            condition: { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 1_000_000 },
          },
        });
        expect(created.status).toBe(201);
        return created.body.id;
      }),
    );
    const [heavy, other] = [t.as('USER'), t.as('USER')];
    const view = (who: { token: string }, event: string) =>
      t.app.inject({ method: 'GET', url: `/events/${event}/progress`, headers: { authorization: `Bearer ${who.token}` } });
    // The heavy player's reads are held in the store until released: two of them are in flight.
    const activities = t.app.get(ActivityRepository);
    const read = activities.findFacts.bind(activities);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const reads = vi.spyOn(activities, 'findFacts').mockImplementation(async (userId, ...rest) => {
      if (userId === heavy.id) await released;
      return read(userId, ...rest);
    });
    const holding = [view(heavy, events[0]!), view(heavy, events[1]!)];
    await vi.waitFor(() => expect(reads).toHaveBeenCalledTimes(2), { timeout: 10_000, interval: 5 });

    const third = await view(heavy, events[2]!);
    expect(third.statusCode).toBe(429);
    expect(third.json()).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringContaining('progress checks') as unknown,
      code: 'TOO_MANY_REQUESTS',
    });
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(reads).toHaveBeenCalledTimes(2);
    // The same check again shares the read in flight (not a third read, not refused).
    const again = view(heavy, events[0]!);
    // Another player is served while the heavy player's two reads are held.
    const others = await view(other, events[2]!);
    expect(others.statusCode).toBe(200);
    expect(others.json()).toMatchObject({ userId: other.id, eligible: false });

    release();
    const answers = await Promise.all([...holding, again]);
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200]);
    expect(reads).toHaveBeenCalledTimes(3);
    // Once they are answered, the player may check the third event.
    expect((await view(heavy, events[2]!)).statusCode).toBe(200);
  });
});
