import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { holdNextCall } from '../../../test-support/hold-next-call.js';
import { ClaimRepository } from '../claims/claim.repository.js';
import { EventRepository } from '../events/event.repository.js';
import { ACTIVE_WINDOW_MAX_EVENTS } from '../events/events.service.js';
import { RewardRepository } from '../rewards/reward.repository.js';
import { createClaimableEvent } from '../testing/claim-test-kit.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';

/**
 * One player's reads that go to the store are bounded per process (PLAYER_READ_MAX_IN_FLIGHT, 4): one player
 * sending a hundred `GET /claims/me`, `GET /events` or views of made-up event ids at once held the store from every
 * other player's claim (300 claims answered within 1.5 s alone took 11 to 59 s).
 */
describe("a player's reads at once", () => {
  let t: EventTestApp;

  beforeAll(async () => {
    // Nothing of the server's own reads claims meanwhile (the reconciler's, the relay's).
    t = await startEventTestApp('player_reads', {
      CLAIM_RECONCILE_INTERVAL_MS: '0',
      PAYOUT_RELAY_INTERVAL_MS: '0',
      LOGIN_MARK_SWEEP_MS: '0',
      // The event the test views stays in the cache however slow the machine is between its requests.
      CLAIM_CATALOG_TTL_MS: '60000',
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers a fifth read at once 429 TOO_MANY_REQUESTS with Retry-After, nothing read; views the cache answers, another player and staff pass', async () => {
    const operator = t.as('OPERATOR');
    const event = await createClaimableEvent(t, operator);
    const [heavy, other] = [t.as('USER'), t.as('USER')];
    const get = (who: { token: string }, url: string) =>
      t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${who.token}` } });
    // The event is in the cache (a view read it): viewing it reads nothing.
    expect((await get(heavy, `/events/${event.id}`)).statusCode).toBe(200);

    // Four of the heavy player's reads, each held in the store until released.
    const claims = t.app.get(ClaimRepository);
    const findPage = claims.findPage.bind(claims);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const pages = vi.spyOn(claims, 'findPage').mockImplementation(async (filter, ...rest) => {
      if (filter.userId === heavy.id) await released;
      return findPage(filter, ...rest);
    });
    const held = [
      holdNextCall(t.app.get(EventRepository), 'findPage'),
      holdNextCall(claims, 'findById'),
      holdNextCall(t.app.get(RewardRepository), 'findByEvent'),
    ];
    const missing = newId();
    const holding = [
      get(heavy, '/claims/me'),
      get(heavy, '/events?limit=5'),
      get(heavy, `/claims/${newId()}`),
      get(heavy, `/events/${missing}`),
    ];
    await vi.waitFor(
      () => {
        expect(pages).toHaveBeenCalledTimes(1);
        for (const call of held) expect(call.reached()).toBe(true);
      },
      { timeout: 10_000, interval: 5 },
    );

    // A fifth, to a store read that is not held (another page): refused before it reads.
    const fifth = await get(heavy, '/events?limit=6');
    expect(fifth.statusCode).toBe(429);
    expect(fifth.json()).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringContaining('reads at once by this player') as unknown,
      code: 'TOO_MANY_REQUESTS',
      retryAfterSeconds: 1,
    });
    expect(fifth.headers['retry-after']).toBe('1');
    expect(held[0]!.calls()).toBe(1);
    // So is a view of an event the cache does not hold, and of its rewards.
    for (const url of [`/events/${newId()}`, `/events/${newId()}/rewards`]) {
      expect((await get(heavy, url)).statusCode, url).toBe(429);
    }
    expect(held[2]!.calls()).toBe(1);

    // A view the cache answers reads nothing: not refused.
    const view = await get(heavy, `/events/${event.id}/rewards`);
    expect(view.statusCode).toBe(200);
    // Another player's reads and staff's pass.
    expect((await get(other, '/claims/me')).statusCode).toBe(200);
    expect((await get(other, '/events?limit=4')).statusCode).toBe(200);
    expect((await get(operator, '/events?limit=5')).statusCode).toBe(200);
    expect((await get(operator, `/events/${newId()}`)).statusCode).toBe(404);

    // The same page as one of theirs being read: joins that read, which is not another of theirs.
    const joined = get(heavy, '/events?limit=5');

    release();
    for (const call of held) call.release();
    expect((await joined).statusCode).toBe(200);
    const answers = await Promise.all(holding);
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 404, 404]);
    expect(answers[3]!.json()).toMatchObject({ code: 'EVENT_NOT_FOUND' });
    // Once they are answered, the player reads again.
    expect((await get(heavy, '/events?limit=5')).statusCode).toBe(200);
    expect((await get(heavy, '/claims/me')).statusCode).toBe(200);
  });

  it('players asking for the same page of events at once share one read; another page, status or size is read apart; staff read their own', async () => {
    const operator = t.as('OPERATOR');
    await createClaimableEvent(t, operator);
    const players = Array.from({ length: 6 }, () => t.as('USER'));
    const get = (who: { token: string }, url: string) =>
      t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${who.token}` } });
    const held = holdNextCall(t.app.get(EventRepository), 'findPage');
    const page = '/events?limit=3&status=ACTIVE';
    const first = get(players[0]!, page);
    await vi.waitFor(() => expect(held.reached()).toBe(true), { timeout: 10_000, interval: 5 });

    // The same page by five more players: they join the read.
    const same = players.slice(1).map((player) => get(player, page));
    // Another page, another status, another size, no filter: each read apart (the held read does not hold them).
    for (const url of [`${page}&page=2`, '/events?limit=3&status=INACTIVE', '/events?limit=4&status=ACTIVE', '/events']) {
      expect((await get(players[1]!, url)).statusCode, url).toBe(200);
    }
    // Staff read their own, now.
    const staff = await get(operator, page);
    expect(staff.statusCode).toBe(200);
    expect(held.calls()).toBe(6);

    held.release();
    const answers = await Promise.all([first, ...same]);
    for (const answer of answers) {
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toEqual(answers[0]!.json());
    }
    expect(answers[0]!.json()).toEqual(staff.json());
    expect(answers[0]!.json()).toMatchObject({ page: 1, limit: 3 });
    expect(answers[0]!.json().total).toBeGreaterThanOrEqual(1);
    expect(held.calls()).toBe(6);
  });

  it("players listing the events active at their own instants within one second share one read, each answered the events active at its instant, as staff's exact read", async () => {
    const operator = t.as('OPERATOR');
    // A second of 2031 (no other test's event meets it), with periods that start and end inside it.
    const second = Date.UTC(2031, 0, 1, 0, 0, 0);
    const at = (ms: number) => new Date(second + ms).toISOString();
    const periods = [
      ['ends at .300', at(-3_600_000), at(300)],
      ['starts at .500', at(500), at(3_600_000)],
      ['spans the second', at(-3_600_000), at(3_600_000)],
      ['ends at .000', at(-3_600_000), at(0)],
      ['starts at .999', at(999), at(3_600_000)],
      ['the second before', at(-3_600_000), at(-1)],
      ['the second after', at(1_000), at(3_600_000)],
    ] as const;
    for (const [title, startAt, endAt] of periods) {
      const created = await t.request('POST', '/events', {
        token: operator.token,
        body: {
          title,
          startAt,
          endAt,
          status: 'ACTIVE',
          approval: 'AUTO',
          condition: { type: 'ACTIVITY_COUNT', activity: 'PLAY', count: 1 },
        },
      });
      expect(created.status, title).toBe(201);
    }
    const get = (who: { token: string }, url: string) =>
      t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${who.token}` } });
    const titles = (answer: { json(): { items: Array<{ title: string }> } }) => answer.json().items.map((event) => event.title);
    const list = (instant: string, more = '') => `/events?activeAt=${encodeURIComponent(instant)}${more}`;

    const held = holdNextCall(t.app.get(EventRepository), 'findMeeting');
    const first = get(t.as('USER'), list(at(0)));
    await vi.waitFor(() => expect(held.reached()).toBe(true), { timeout: 10_000, interval: 5 });
    // Instants of the same second, one written with +00:00, pages of it: they join the read.
    const asked = [at(100), at(299), at(300).replace('Z', '+00:00'), at(301), at(500), at(998), at(999)];
    const joined = asked.map((instant) => get(t.as('USER'), list(instant)));
    const paged = get(t.as('USER'), list(at(600), '&limit=1&page=2'));
    // Another second: read apart (the held read does not hold it).
    const after = await get(t.as('USER'), list(at(1_000)));
    expect(after.statusCode).toBe(200);
    expect(held.calls()).toBe(2);

    held.release();
    const answers = await Promise.all([first, ...joined]);
    expect(held.calls()).toBe(2);
    for (const [index, instant] of [at(0), ...asked].entries()) {
      const exact = await get(operator, list(instant));
      expect(answers[index]!.statusCode, instant).toBe(200);
      expect(answers[index]!.json(), instant).toEqual(exact.json());
    }
    expect(titles(answers[0]!)).toEqual(['ends at .000', 'spans the second', 'ends at .300']);
    expect(titles(answers[4]!)).toEqual(['spans the second']);
    expect(titles(answers[7]!)).toEqual(['starts at .999', 'spans the second', 'starts at .500']);
    expect((await paged).json()).toEqual((await get(operator, list(at(600), '&limit=1&page=2'))).json());
    expect((await paged).json()).toMatchObject({ items: [{ title: 'starts at .500' }], page: 2, limit: 1, total: 2 });
    expect(titles(after)).toEqual(['the second after', 'starts at .999', 'spans the second', 'starts at .500']);
  });
  it("a second met by more events than one read carries (ACTIVE_WINDOW_MAX_EVENTS) is listed a page at a time, each as staff's", async () => {
    const operator = t.as('OPERATOR');
    const events = t.app.get(EventRepository);
    // A second of 2033 (no other test's event meets it), met by as many events as one read carries.
    const second = Date.UTC(2033, 0, 1, 0, 0, 0);
    const crowded = (index: number) =>
      events.create({
        title: `Crowded ${index}`,
        startAt: new Date(second - 3_600_000),
        endAt: new Date(second + 3_600_000),
        status: 'ACTIVE',
        approval: 'AUTO',
        timezone: 'UTC',
        condition: { type: 'ACTIVITY_COUNT', activity: 'PLAY', count: 1 },
        createdBy: operator.id,
      });
    for (let index = 0; index < ACTIVE_WINDOW_MAX_EVENTS; index++) await crowded(index);
    const window = { from: new Date(second), to: new Date(second + 999) };
    expect(await events.findMeeting(window, ACTIVE_WINDOW_MAX_EVENTS)).toHaveLength(ACTIVE_WINDOW_MAX_EVENTS);
    await crowded(ACTIVE_WINDOW_MAX_EVENTS);
    expect(await events.findMeeting(window, ACTIVE_WINDOW_MAX_EVENTS)).toBeUndefined();

    // The player's list falls back to the page read, and answers what staff's does.
    const pages = vi.spyOn(events, 'findPage');
    const url = `/events?limit=100&page=3&activeAt=${encodeURIComponent(new Date(second + 500).toISOString())}`;
    const player = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.as('USER').token}` } });
    expect(pages).toHaveBeenCalledTimes(1);
    const staff = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${operator.token}` } });
    expect(player.statusCode).toBe(200);
    expect(player.json()).toEqual(staff.json());
    expect(player.json()).toMatchObject({
      page: 3,
      limit: 100,
      total: ACTIVE_WINDOW_MAX_EVENTS + 1,
      items: [{ title: 'Crowded 0' }],
    });
  });
});
