import { getConnectionToken } from '@nestjs/mongoose';
import { type Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers, remainingOf } from '../testing/claim-test-kit.js';
import { grantedClaimHolding } from '../../../test-support/claimable-event.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { ActivityRepository } from '../activities/activity.repository.js';
import { ProgressService } from '../progress/progress.service.js';
import { GroupedWrites } from '../common/grouped-writes.js';
import { IdempotencyKeyRepository } from '../idempotency/idempotency-key.repository.js';

function withOption(uri: string, option: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}${option}`;
}

interface Counted<T> {
  result: T;
  commands: string[];
  /** The documents the store sent back in cursors (a count's answer is one). */
  documents: number;
}

/**
 * The claim path's budget in store commands (each a round trip on MongoDB, a query on FerretDB), counted
 * with the driver's command monitoring: a number, not a time, so it holds on any machine and any store.
 * The shared fixture's condition counts one activity: its read of the player's activities is one `count` command
 * with a limit (`count activities`), no activity sent.
 */
describe('store commands per claim', () => {
  let t: EventTestApp;
  let operator: Actor;
  let seen: string[] | undefined;
  /** The filters of the find commands sent while `filters` is set. */
  let filters: unknown[] | undefined;
  /** The pipelines of the aggregations of activities sent while `filters` is set. */
  let pipelines: unknown[] = [];
  /** The activities sent back in cursors while `seen` is set (a count command's answer has none), and the commands reading them. */
  let documents = 0;
  const activityReads = new Set<number>();

  async function counted<T>(work: () => Promise<T>): Promise<Counted<T>> {
    seen = [];
    documents = 0;
    const result = await work();
    const commands = seen;
    seen = undefined;
    // An expired event cache entry (read again at most once per TTL, not per claim) is not the claim's cost.
    return {
      result,
      commands: commands.filter((command) => command !== 'find events' && command !== 'find rewards'),
      documents,
    };
  }

  beforeAll(async () => {
    // No periodic reconciliation: its reads would land between the commands of a request.
    t = await startEventTestApp('claims_commands', {
      CLAIM_RECONCILE_INTERVAL_MS: '0',
      // The event cache outlives a slow machine's pause between two requests of one test.
      CLAIM_CATALOG_TTL_MS: '60000',
      CLAIM_SOLD_OUT_TTL_MS: '60000',
      // Nor the payout relay's polls and the webhook directory's refresh (within the test's minute).
      PAYOUT_RELAY_INTERVAL_MS: '0',
      WEBHOOK_ENDPOINT_CACHE_MS: '60000',
      // Nor the login mark sweep (it runs at start, before any count).
      LOGIN_MARK_SWEEP_MS: '0',
      // Nor this process's heartbeat (its keys then name no owner, as with CLAIM_HEARTBEAT_MS=0 anywhere).
      CLAIM_HEARTBEAT_MS: '0',
      MONGODB_URI: withOption(inject('mongoUri'), 'monitorCommands=true'),
    });
    operator = t.as('OPERATOR');
    const client = t.app.get<Connection>(getConnectionToken()).getClient();
    client.on('commandStarted', (event) => {
      const collection = (event.command as Record<string, unknown>)[event.commandName];
      seen?.push(`${event.commandName} ${typeof collection === 'string' ? collection : ''}`.trim());
      if (event.commandName === 'find') filters?.push((event.command as { filter?: unknown }).filter);
      if (event.commandName === 'aggregate' && collection === 'activities' && filters)
        pipelines.push((event.command as { pipeline?: unknown }).pipeline);
      if (collection === 'activities') activityReads.add(event.requestId);
    });
    client.on('commandSucceeded', (event) => {
      if (!activityReads.delete(event.requestId)) return;
      const cursor = (event.reply as { cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] } }).cursor;
      if (seen) documents += (cursor?.firstBatch ?? cursor?.nextBatch ?? []).length;
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('AUTO with one limited reward: 2 (its unit rides on the claim); +2 with an Idempotency-Key; a second tap 1, or 4 when another replica recorded the claim; a non-eligible player 3 (the slot read: a holder is told ALREADY_CLAIMED); known sold out 2', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'C', quantity: 1, stock: 3, couponCode: 'X' }],
    });
    const [warm, first, keyed, last] = await eligibleUsers(t, operator, 4);
    expect((await claim(t, event.id, warm!)).status).toBe(201);

    // The event's first limited reward holds its units on the claims: the claim's own insert takes one.
    const granted = await counted(() => claim(t, event.id, first!));
    expect(granted.result.body.status).toBe('GRANTED');
    expect(granted.commands).toEqual(['count activities', 'insert claims']);

    // This process recorded the first claim, which keeps the slot for good: only the refusal is written.
    const again = await counted(() => claim(t, event.id, first!));
    expect(again.result.body.code).toBe('ALREADY_CLAIMED');
    expect(again.commands).toEqual(['insert claims']);

    // A claim another replica recorded (written straight into the store): the refused insert names no index,
    // so one read of the slot tells the slot from the unit.
    const [elsewhere] = await eligibleUsers(t, operator, 1);
    const claimsCollection = t.app.get<Connection>(getConnectionToken()).collection('claims');
    await claimsCollection.insertOne({
      eventId: event.id,
      userId: elsewhere!.id,
      status: 'GRANTED',
      rewards: [],
      slotKey: `${event.id}:${elsewhere!.id}`,
      createdAt: new Date(),
      decidedAt: new Date(),
      decidedBy: 'system',
    });
    const otherReplica = await counted(() => claim(t, event.id, elsewhere!));
    expect(otherReplica.result.body.code).toBe('ALREADY_CLAIMED');
    expect(otherReplica.commands).toEqual(['count activities', 'insert claims', 'find claims', 'insert claims']);

    const withKey = await counted(() => claim(t, event.id, keyed!, 'key-1'));
    expect(withKey.result.body.status).toBe('GRANTED');
    expect(withKey.commands.length, withKey.commands.join(', ')).toBeLessThanOrEqual(4);

    const stranger = t.as('USER');
    const notEligible = await counted(() => claim(t, event.id, stranger));
    expect(notEligible.result.body.code).toBe('CONDITION_NOT_MET');
    expect(notEligible.commands).toEqual(['count activities', 'find claims', 'insert claims']);

    // The stock (3) is gone: the first one to find out lists the units once; after that refusals are cheap.
    const [late, later] = await eligibleUsers(t, operator, 2);
    expect((await claim(t, event.id, last!)).body.code).toBe('OUT_OF_STOCK');
    expect((await claim(t, event.id, late!)).body.code).toBe('OUT_OF_STOCK');
    // Known sold out, the player's activities are not read: their slot, then the refusal.
    const soldOut = await counted(() => claim(t, event.id, later!));
    expect(soldOut.result.body.code).toBe('OUT_OF_STOCK');
    expect(soldOut.commands).toEqual(['find claims', 'insert claims']);
    // So is a player who never met the condition: there is nothing left to grant either way.
    const soldOutStranger = await counted(() => claim(t, event.id, t.as('USER')));
    expect(soldOutStranger.result.body.code).toBe('OUT_OF_STOCK');
    expect(soldOutStranger.commands).toEqual(['find claims', 'insert claims']);
    // A player who holds a claim is told so, not that the stock is gone.
    const grantedAgain = await counted(() => claim(t, event.id, first!));
    expect(grantedAgain.result.body.code).toBe('ALREADY_CLAIMED');
    expect(grantedAgain.commands).toEqual(['insert claims']);
  });

  it('keyed refusals: the key is completed without a copy of the refusal (one update for the refusals made meanwhile), and a replay reads the refusal', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 10 }] });
    const [warm] = await eligibleUsers(t, operator, 1);
    expect((await claim(t, event.id, warm!)).status).toBe(201);
    const keys = t.app.get<Connection>(getConnectionToken()).collection('idempotency_keys');

    const stranger = t.as('USER');
    const refused = await counted(() => claim(t, event.id, stranger, 'refused-1'));
    expect(refused.result.status).toBe(422);
    expect(refused.result.body.code).toBe('CONDITION_NOT_MET');
    expect(refused.commands).toEqual([
      'insert idempotency_keys',
      'count activities',
      'find claims',
      'insert claims',
      'update idempotency_keys',
    ]);
    const stored = await keys.findOne({ userId: stranger.id, key: 'refused-1' });
    expect(stored).toMatchObject({ state: 'DONE', recorded: true });
    expect(stored).not.toHaveProperty('result');
    expect(stored).not.toHaveProperty('error');

    // The replay answers exactly the first answer, read from the refusal recorded under the key.
    const replay = await counted(() => claim(t, event.id, stranger, 'refused-1'));
    expect(replay.result.status).toBe(422);
    expect(replay.result.body).toEqual(refused.result.body);
    expect(replay.commands).toEqual(['insert idempotency_keys', 'find idempotency_keys', 'find claims']);
    expect(await t.app.get<Connection>(getConnectionToken()).collection('claims').countDocuments({ userId: stranger.id })).toBe(
      1,
    );

    // 12 strangers at once (within CLAIM_MAX_IN_FLIGHT): the first completion is held until every one of them
    // has asked for its own, so the 11 others wait for it and are then written together, whatever the
    // machine's speed.
    const repository = t.app.get(IdempotencyKeyRepository);
    const complete = repository.completeRecorded.bind(repository);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const asked = vi.spyOn(GroupedWrites.prototype, 'add');
    const writes = vi.spyOn(repository, 'completeRecorded').mockImplementation(async (ids) => {
      await released;
      return complete(ids);
    });
    const crowd = Array.from({ length: 12 }, () => t.as('USER'));
    let groups: number[];
    let burst: Counted<Awaited<ReturnType<typeof claim>>[]>;
    try {
      burst = await counted(async () => {
        const answers = Promise.all(crowd.map((player) => claim(t, event.id, player, 'crowd-key')));
        try {
          // The keys' completions (their ids) only: the keys' and claims' inserts are grouped writes too.
          const completions = () => asked.mock.calls.filter(([item]) => typeof item === 'string');
          await vi.waitFor(() => expect(completions()).toHaveLength(12), { timeout: 10_000, interval: 5 });
        } finally {
          release();
        }
        return answers;
      });
      groups = writes.mock.calls.map(([ids]) => ids.length);
    } finally {
      vi.restoreAllMocks();
    }
    expect(burst.result.map((reply) => reply.body.code)).toEqual(crowd.map(() => 'CONDITION_NOT_MET'));
    expect(groups).toEqual([1, 11]);
    expect(burst.commands.filter((command) => command === 'update idempotency_keys')).toHaveLength(2);
    expect(await keys.countDocuments({ key: 'crowd-key', state: 'DONE', recorded: true })).toBe(12);

    // The key's write failing, the refusal is answered all the same; the key stays IN_PROGRESS, and a retry
    // with it reads the refusal.
    const unlucky = t.as('USER');
    vi.spyOn(repository, 'completeRecorded').mockRejectedValueOnce(new Error('store away'));
    let failed: Awaited<ReturnType<typeof claim>>;
    try {
      failed = await claim(t, event.id, unlucky, 'failed-write');
    } finally {
      vi.restoreAllMocks();
    }
    expect(failed.status).toBe(422);
    expect(failed.body.code).toBe('CONDITION_NOT_MET');
    expect(await keys.findOne({ userId: unlucky.id, key: 'failed-write' })).toMatchObject({ state: 'IN_PROGRESS' });
    expect((await claim(t, event.id, unlucky, 'failed-write')).body).toEqual(failed.body);

    // A grant is kept on its key as it was answered (the claim itself changes later: review, payout).
    const [player] = await eligibleUsers(t, operator, 1);
    expect((await claim(t, event.id, player!, 'granted-1')).body.status).toBe('GRANTED');
    expect(await keys.findOne({ userId: player!.id, key: 'granted-1' })).toMatchObject({
      state: 'DONE',
      result: { claim: { status: 'GRANTED' } },
    });
  });

  it('no limited reward: the claim is born decided, 2 commands (AUTO and MANUAL); a second tap 1; no decision, no update', async () => {
    for (const approval of ['AUTO', 'MANUAL'] as const) {
      const event = await createClaimableEvent(t, operator, { approval });
      const [warm, player] = await eligibleUsers(t, operator, 2);
      expect((await claim(t, event.id, warm!)).status).toBe(201);
      const born = await counted(() => claim(t, event.id, player!));
      expect(born.result.body.status).toBe(approval === 'AUTO' ? 'GRANTED' : 'PENDING');
      expect(born.commands).toEqual(['count activities', 'insert claims']);
      const again = await counted(() => claim(t, event.id, player!));
      expect(again.result.body.code).toBe('ALREADY_CLAIMED');
      expect(again.commands).toEqual(['insert claims']);
    }
  });

  it('two taps of one player at once in one process: the second waits for the first, then records its refusal in one command', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 10 }] });
    const [warm, player] = await eligibleUsers(t, operator, 2);
    expect((await claim(t, event.id, warm!)).status).toBe(201);
    const both = await counted(() => Promise.all([claim(t, event.id, player!), claim(t, event.id, player!)]));
    expect(both.result.map((reply) => String(reply.body.code ?? reply.body.status)).sort()).toEqual([
      'ALREADY_CLAIMED',
      'GRANTED',
    ]);
    expect(both.commands).toEqual(['count activities', 'insert claims', 'insert claims']);
  });

  it('two taps of one player at once, both refused: the second does not read the slot the first just found free', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 1 }] });
    const [winner, finder, player] = await eligibleUsers(t, operator, 3);
    expect((await claim(t, event.id, winner!)).body.status).toBe('GRANTED');
    expect((await claim(t, event.id, finder!)).body.code).toBe('OUT_OF_STOCK');
    // Known sold out: the first tap reads the slot and records its refusal; the second only records its own.
    const soldOut = await counted(() => Promise.all([claim(t, event.id, player!), claim(t, event.id, player!)]));
    expect(soldOut.result.map((reply) => reply.body.code)).toEqual(['OUT_OF_STOCK', 'OUT_OF_STOCK']);
    expect(soldOut.commands).toEqual(['find claims', 'insert claims', 'insert claims']);
    // Not eligible: each tap reads the player's activities, only the first their slot.
    const other = await createClaimableEvent(t, operator);
    const [warm] = await eligibleUsers(t, operator, 1);
    expect((await claim(t, other.id, warm!)).status).toBe(201);
    const stranger = t.as('USER');
    const notEligible = await counted(() => Promise.all([claim(t, other.id, stranger), claim(t, other.id, stranger)]));
    expect(notEligible.result.map((reply) => reply.body.code)).toEqual(['CONDITION_NOT_MET', 'CONDITION_NOT_MET']);
    expect(notEligible.commands).toEqual([
      'count activities',
      'find claims',
      'insert claims',
      'count activities',
      'insert claims',
    ]);
    // A later tap, which waited for none, reads the slot again: a claim may hold it since.
    const later = await counted(() => claim(t, event.id, player!));
    expect(later.commands).toEqual(['find claims', 'insert claims']);
  });

  it('two limited rewards, the second sold out: once found out, later claims are refused from memory (2 commands)', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [
        { type: 'POINT', name: 'Plenty', quantity: 1, stock: 100 },
        { type: 'ITEM', name: 'Rare', quantity: 1, stock: 1, itemCode: 'RARE' },
      ],
    });
    const [winner, finder, late] = await eligibleUsers(t, operator, 3);
    expect((await claim(t, event.id, winner!)).body.status).toBe('GRANTED');
    // The first to find the rare reward gone takes the plentiful one and gives it back with its rejection.
    expect((await claim(t, event.id, finder!)).body.code).toBe('OUT_OF_STOCK');
    // That give-back does not make this process forget that the rare one is gone.
    const refused = await counted(() => claim(t, event.id, late!));
    expect(refused.result.body.code).toBe('OUT_OF_STOCK');
    expect(refused.commands).toEqual(['find claims', 'insert claims']);
    expect(await remainingOf(t, event.id, late!)).toEqual([99, 0]);
  });

  it('MANUAL with one limited reward: 2, born PENDING holding its unit; a progress check at most 2', async () => {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'ITEM', name: 'Sword', quantity: 1, stock: 10, itemCode: 'SWORD' }],
    });
    const [warm, player] = await eligibleUsers(t, operator, 2);
    expect((await claim(t, event.id, warm!)).status).toBe(201);
    const pending = await counted(() => claim(t, event.id, player!));
    expect(pending.result.body.status).toBe('PENDING');
    expect(pending.commands).toEqual(['count activities', 'insert claims']);

    const progress = await counted(() => t.request('GET', `/events/${event.id}/progress`, { token: player!.token }));
    expect(progress.result.status).toBe(200);
    expect(progress.commands.length, progress.commands.join(', ')).toBeLessThanOrEqual(2);
  });

  /**
   * An ACTIVE AUTO event with `condition`, from `startAt` (ms) until an hour from now, and the player's progress on it
   * with the store commands it made.
   */
  const progressOnNewEvent = async (player: { token: string }, title: string, startAt: number, condition: unknown) => {
    const event = await t.request<{ id: string }>('POST', '/events', {
      token: operator.token,
      body: {
        title,
        startAt: new Date(startAt).toISOString(),
        endAt: new Date(Date.now() + 3_600_000).toISOString(),
        status: 'ACTIVE',
        approval: 'AUTO',
        condition,
      },
    });
    expect(event.status).toBe(201);
    return counted(() => t.request('GET', `/events/${event.body.id}/progress`, { token: player.token }));
  };

  it("a login-days progress reads the player's quarter-hour marks: 1 command however many logins; +1 for a quarter hour the start cuts that its mark cannot decide", async () => {
    /** A player with LOGINs at these instants (recorded in this order), and their progress on a login-days event starting at `startAt`. */
    const progressOf = async (logins: number[], startAt: number) => {
      const player = t.as('USER');
      const items = logins.map((at) => ({ userId: player.id, type: 'LOGIN', occurredAt: new Date(at).toISOString() }));
      expect((await t.request('POST', '/activities', { token: operator.token, body: { items } })).status).toBe(201);
      return progressOnNewEvent(player, 'logins', startAt, { type: 'LOGIN_DAYS', days: 1 });
    };
    const hourAgo = Date.now() - 3_600_000;
    const many = await progressOf(
      Array.from({ length: 200 }, (_, i) => hourAgo + i * 1000),
      hourAgo - 3_600_000,
    );
    expect(many.result.body).toMatchObject({ eligible: true, conditions: [{ type: 'LOGIN_DAYS', current: 1, met: true }] });
    expect(many.commands).toEqual(['find login_quarters']);

    // An event starting inside a quarter hour whose mark's login came before the start, that day counted by
    // no other mark: one read with a limit of 1 asks whether that quarter hour holds a login after the start.
    const quarter = Math.floor(hourAgo / 900_000) * 900_000;
    const probed = await progressOf([quarter + 60_000, quarter + 61_000], quarter + 60_500);
    expect(probed.result.body).toMatchObject({ eligible: true, conditions: [{ current: 1, met: true }] });
    expect(probed.commands).toEqual(['find login_quarters', 'find activities']);
  });

  it('a counted type is counted by the store up to the count asked, no document sent: a player with 1,500 BOSS_KILLs on a leaf asking for 1,000,000 costs one count', async () => {
    const player = t.as('USER');
    const base = Date.now() - 3_600_000;
    const items = Array.from({ length: 1_500 }, (_, i) => ({
      userId: player.id,
      type: 'BOSS_KILL',
      occurredAt: new Date(base + i * 1000).toISOString(),
    }));
    for (let start = 0; start < items.length; start += 1_000) {
      const body = { items: items.slice(start, start + 1_000) };
      expect((await t.request('POST', '/activities', { token: operator.token, body })).status).toBe(201);
    }
    const progress = await progressOnNewEvent(player, 'bosses', base - 3_600_000, {
      type: 'ANY',
      conditions: [
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 1_000_000 },
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 5 },
      ],
    });
    expect(progress.result.body).toMatchObject({
      eligible: true,
      conditions: [
        { required: 1_000_000, current: 1_500, met: false },
        { required: 5, current: 5, met: true },
      ],
    });
    expect(progress.commands).toEqual(['count activities']);
    expect(progress.documents).toBe(0);
  });

  it("quest clears are looked for by their quests: one read however many quests are named (one of limit 1 for one), the player's clears of other quests never sent", async () => {
    const player = t.as('USER');
    const base = Date.now() - 3_600_000;
    const clear = (questId: string, i: number) => ({
      userId: player.id,
      type: 'QUEST_CLEAR',
      occurredAt: new Date(base + i * 1000).toISOString(),
      attributes: { questId },
    });
    const items = [...Array.from({ length: 300 }, (_, i) => clear(`OTHER-${i}`, i)), clear('Q-17', 300)];
    expect((await t.request('POST', '/activities', { token: operator.token, body: { items } })).status).toBe(201);
    // The filters of the finds from here on (the quests' reads are looked for among them below).
    filters = [];
    pipelines = [];
    const progress = await progressOnNewEvent(player, 'quests', base - 3_600_000, {
      type: 'ANY',
      conditions: [
        { type: 'QUEST_CLEAR', questId: 'Q-17' },
        { type: 'QUEST_CLEAR', questId: 'Q-99' },
      ],
    });
    const sent = filters;
    filters = undefined;
    expect(progress.result.body).toMatchObject({
      eligible: true,
      conditions: [
        { type: 'QUEST_CLEAR', questId: 'Q-17', met: true },
        { type: 'QUEST_CLEAR', questId: 'Q-99', met: false },
      ],
    });
    // One read for both quests (FerretDB looked through the player's clears once per quest named): one group back.
    expect(progress.commands).toEqual(['aggregate activities']);
    expect(sent).not.toEqual(expect.arrayContaining([expect.objectContaining({ 'attributes.questId': expect.anything() })]));
    expect(progress.documents).toBe(1);
    expect(pipelines).toEqual([
      expect.arrayContaining([
        { $match: expect.objectContaining({ userId: player.id, 'attributes.questId': { $in: ['Q-17', 'Q-99'] } }) },
      ]),
    ]);

    // One quest: one read of limit 1.
    filters = [];
    const one = await progressOnNewEvent(player, 'one quest', base - 3_600_000, { type: 'QUEST_CLEAR', questId: 'Q-17' });
    const oneSent = filters;
    filters = undefined;
    expect(one.result.body).toMatchObject({ eligible: true, conditions: [{ type: 'QUEST_CLEAR', questId: 'Q-17', met: true }] });
    expect(one.commands).toEqual(['find activities']);
    expect(one.documents).toBe(1);
    expect(oneSent).toEqual(expect.arrayContaining([expect.objectContaining({ 'attributes.questId': 'Q-17' })]));

    // Clears outside the period, another player's, and a quest not named are not a clear of the event's quests.
    const other = t.as('USER');
    const early = { ...clear('Q-99', 0), occurredAt: new Date(base - 7_200_000).toISOString() };
    const others = [early, { ...clear('Q-98', 1), userId: other.id }, clear('Q-97', 2)];
    expect((await t.request('POST', '/activities', { token: operator.token, body: { items: others } })).status).toBe(201);
    const none = await progressOnNewEvent(player, 'quests again', base - 3_600_000, {
      type: 'ANY',
      conditions: [
        { type: 'QUEST_CLEAR', questId: 'Q-99' },
        { type: 'QUEST_CLEAR', questId: 'Q-98' },
      ],
    });
    expect(none.result.body).toMatchObject({
      eligible: false,
      conditions: [
        { type: 'QUEST_CLEAR', questId: 'Q-99', met: false },
        { type: 'QUEST_CLEAR', questId: 'Q-98', met: false },
      ],
    });
    expect(none.commands).toEqual(['aggregate activities']);
  });

  it("one player's progress requests at once share one read; another player's is read apart; later ones read again", async () => {
    const event = await createClaimableEvent(t, operator);
    const [player, other] = await eligibleUsers(t, operator, 2);
    const view = (who: Actor) => t.request('GET', `/events/${event.id}/progress`, { token: who.token });
    // The store's reads are held until all 11 requests have come in, whatever the machine's speed.
    const progress = t.app.get(ProgressService);
    const activities = t.app.get(ActivityRepository);
    const arrivals = vi.spyOn(progress, 'forCaller');
    const read = activities.findFacts.bind(activities);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(activities, 'findFacts').mockImplementation(async (...args) => {
      await released;
      return read(...args);
    });
    const burst = await counted(async () => {
      const answers = Promise.all([...Array.from({ length: 10 }, () => view(player!)), view(other!)]);
      await vi.waitFor(() => expect(arrivals).toHaveBeenCalledTimes(11), { timeout: 10_000, interval: 5 });
      release();
      return answers;
    });
    vi.restoreAllMocks();
    expect(burst.result.map((reply) => reply.status)).toEqual(Array.from({ length: 11 }, () => 200));
    expect(new Set(burst.result.slice(0, 10).map((reply) => JSON.stringify(reply.body))).size).toBe(1);
    expect(burst.result[0]!.body).toMatchObject({ userId: player!.id, eligible: true });
    expect(burst.result[10]!.body).toMatchObject({ userId: other!.id, eligible: true });
    expect(burst.commands).toEqual(['count activities', 'count activities']);
    // Once answered, the next request reads afresh (nothing is kept past the read).
    const later = await counted(() => view(player!));
    expect(later.commands).toEqual(['count activities']);
  });

  it('cost independent of history: with 10,000 of 1,000,000 units taken, a claim costs what the first one did and never reads the units', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'POINT', name: 'Gems', quantity: 5, stock: 1_000_000 }],
    });
    const rewardId = event.rewardIds[0]!;
    const [opener, fresh, warm, player] = await eligibleUsers(t, operator, 4);
    expect((await claim(t, event.id, opener!)).body.status).toBe('GRANTED'); // reads the event into the cache
    const first = await counted(() => claim(t, event.id, fresh!));
    expect(first.result.body.status).toBe('GRANTED');

    // Units taken by earlier claims (another replica, before a restart): claims holding them, written
    // straight into the store.
    const claimsCollection = t.app.get<Connection>(getConnectionToken()).collection('claims');
    const taken = Array.from({ length: 10_000 }, (_, i) => grantedClaimHolding(event.id, newId(), rewardId, i + 3));
    for (let start = 0; start < taken.length; start += 5_000)
      await claimsCollection.insertMany(taken.slice(start, start + 5_000));

    expect((await claim(t, event.id, warm!)).body.status).toBe('GRANTED'); // finds the new frontier once
    const later = await counted(() => claim(t, event.id, player!));
    expect(later.result.body.status).toBe('GRANTED');
    expect(first.commands).toEqual(['count activities', 'insert claims']);
    expect(later.commands).toEqual(first.commands);
    expect(await claimsCollection.countDocuments({ unitRewardId: rewardId })).toBe(10_004);
    expect(await claimsCollection.countDocuments({ unitKey: { $in: [`${rewardId}:1`, `${rewardId}:2`] } })).toBe(2);
  });

  it("players' views of an event count its taken units once, however many ask: concurrent views share the count, later ones reuse it, less the units this process took since; staff's count every time", async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [
        { type: 'POINT', name: 'On claims', quantity: 1, stock: 1_000 },
        { type: 'POINT', name: 'In units', quantity: 1, stock: 1_000 },
      ],
    });
    const [first, second] = await eligibleUsers(t, operator, 2);
    expect((await claim(t, event.id, first!)).body.status).toBe('GRANTED');
    const player = t.as('USER');
    const view = (): Promise<{ status: number; body: { rewards: Array<{ remaining: number }> } }> =>
      t.request('GET', `/events/${event.id}`, { token: player.token });
    const counts = (commands: string[]): string[] => commands.filter((command) => command.startsWith('aggregate'));

    // A crowd opening the event at once: one count per limited reward, not one per view.
    const crowd = await counted(() => Promise.all(Array.from({ length: 10 }, view)));
    for (const answer of crowd.result) expect(answer.body.rewards.map((reward) => reward.remaining)).toEqual([999, 999]);
    expect(counts(crowd.commands)).toHaveLength(2);
    // The next views reuse those counts.
    const again = await counted(view);
    expect(again.result.body.rewards.map((reward) => reward.remaining)).toEqual([999, 999]);
    expect(counts(again.commands)).toEqual([]);
    // A unit taken here is seen by the next view, without counting the units again.
    expect((await claim(t, event.id, second!)).body.status).toBe('GRANTED');
    const afterClaim = await counted(view);
    expect(afterClaim.result.body.rewards.map((reward) => reward.remaining)).toEqual([998, 998]);
    expect(counts(afterClaim.commands)).toEqual([]);
    // Staff read reports: counted every time.
    const staff = await counted(() => t.request('GET', `/events/${event.id}/rewards`, { token: operator.token }));
    expect(counts(staff.commands)).toHaveLength(2);
  });

  it("players' views of an event and of its rewards are served from the event catalog (no command once it holds the event); staff's read both now; a change made here is seen at once", async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'POINT', name: 'Limited', quantity: 1, stock: 10 }],
    });
    const player = t.as('USER');
    const all = async <T>(work: () => Promise<T>): Promise<{ result: T; commands: string[] }> => {
      seen = [];
      const result = await work();
      const commands = seen;
      seen = undefined;
      return { result, commands };
    };
    type Reward = { remaining: number };
    // The body: an event with its rewards, the rewards alone, or an error.
    type Answer = { status: number; body: { title?: string; code?: string; rewards?: Reward[] } & Reward[] };
    const view = (path: string, token: string): Promise<Answer> => t.request('GET', path, { token });
    // The first view reads the event and its rewards (and counts the units) into the catalog.
    expect((await view(`/events/${event.id}`, player.token)).status).toBe(200);

    // A crowd of views, of the event and of its rewards: not one command.
    const crowd = await all(() =>
      Promise.all([
        ...Array.from({ length: 5 }, () => view(`/events/${event.id}`, player.token)),
        ...Array.from({ length: 5 }, () => view(`/events/${event.id}/rewards`, player.token)),
      ]),
    );
    expect(crowd.commands).toEqual([]);
    for (const answer of crowd.result.slice(0, 5)) {
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ id: event.id, title: 'Claim test', status: 'ACTIVE' });
      expect(answer.body.rewards?.map((reward) => reward.remaining)).toEqual([10]);
    }
    for (const answer of crowd.result.slice(5)) {
      expect(answer.status).toBe(200);
      expect(answer.body.map((reward) => reward.remaining)).toEqual([10]);
    }

    // Staff read the event and its rewards now, and count the units now.
    const staff = await all(() => view(`/events/${event.id}`, operator.token));
    expect(staff.commands).toEqual(expect.arrayContaining(['find events', 'find rewards']));
    expect(staff.commands.some((command) => command.startsWith('aggregate'))).toBe(true);

    // A change made through this process drops the catalog's copy: the next player's view shows it.
    const patched = await t.request('PATCH', `/events/${event.id}`, { token: operator.token, body: { title: 'Renamed' } });
    expect(patched.status).toBe(200);
    expect((await view(`/events/${event.id}`, player.token)).body.title).toBe('Renamed');

    // An event that does not exist is 404 to a player too, each time (a miss is not kept).
    const missing = newId();
    for (const path of [`/events/${missing}`, `/events/${missing}/rewards`]) {
      const answer = await view(path, player.token);
      expect(answer.status).toBe(404);
      expect(answer.body.code).toBe('EVENT_NOT_FOUND');
    }
  });

  it("a player's view after a launch's claims made here counts nothing; after a unit given back here (a revocation) it counts again", async () => {
    // The first limited reward holds its units on the claims, the second as unit documents.
    const event = await createClaimableEvent(t, operator, {
      rewards: [
        { type: 'POINT', name: 'On claims', quantity: 1, stock: 10 },
        { type: 'ITEM', name: 'As documents', quantity: 1, stock: 5, itemCode: 'SLED' },
      ],
    });
    const player = t.as('USER');
    const view = () => t.request<Array<{ remaining: number }>>('GET', `/events/${event.id}/rewards`, { token: player.token });
    const remaining = (answer: { body: Array<{ remaining: number }> }) => answer.body.map((reward) => reward.remaining);
    // The first view counts the units (none yet).
    expect(remaining(await view())).toEqual([10, 5]);

    const players = await eligibleUsers(t, operator, 3);
    const granted: string[] = [];
    for (const each of players) {
      const answer = await claim(t, event.id, each);
      expect(answer.body.status).toBe('GRANTED');
      granted.push(String(answer.body.id));
    }
    // A launch's views while this process takes units: each is answered without counting them again.
    const after = await counted(view);
    expect(remaining(after.result)).toEqual([7, 2]);
    expect(after.commands).toEqual([]);

    // A unit given back here (a revocation) is not subtracted: the next view counts again.
    const revoked = await t.request('POST', `/claims/${granted[0]}/revoke`, {
      token: t.as('OPERATOR').token,
      body: { note: 'test' },
    });
    expect(revoked.status).toBe(200);
    const recounted = await counted(view);
    expect(remaining(recounted.result)).toEqual([8, 3]);
    expect(recounted.commands.filter((command) => command.startsWith('aggregate')).sort()).toEqual([
      'aggregate claims',
      'aggregate reward_units',
    ]);
  });

  it('a CSV export settles its PROCESSING claims with one read per chunk of 200 rows, not one per claim', async () => {
    const eventId = newId();
    const connection = t.app.get<Connection>(getConnectionToken());
    const base = Date.parse('2020-01-01T00:00:00Z');
    // Long-path claims caught mid-decision (a burst on an event with two limited rewards): every tenth has
    // its decision recorded but not yet projected onto the claim.
    const processing = Array.from({ length: 450 }, (_, i) => {
      const id = new Types.ObjectId();
      return {
        _id: id,
        eventId,
        userId: newId(),
        status: 'PROCESSING',
        rewards: [],
        slotKey: `${eventId}:${i}`,
        createdAt: new Date(base + i * 1000),
      };
    });
    await connection.collection('claims').insertMany(processing);
    const decided = processing.filter((_, i) => i % 10 === 0);
    await connection.collection('claim_decisions').insertMany(
      decided.map((claim) => ({
        claimId: claim._id.toString(),
        fromStatus: 'PROCESSING',
        toStatus: 'GRANTED',
        decidedBy: 'system',
        at: new Date(claim.createdAt.getTime() + 500),
        appliedAt: new Date(claim.createdAt.getTime() + 500),
      })),
    );
    const auditor = t.as('AUDITOR');
    const exported = await counted(() =>
      t.app.inject({
        method: 'GET',
        url: `/claims/export?eventId=${eventId}`,
        headers: { authorization: `Bearer ${auditor.token}` },
      }),
    );
    expect(exported.result.statusCode).toBe(200);
    const rows = exported.result.body.trimEnd().split('\r\n').slice(1);
    expect(rows).toHaveLength(450);
    const granted = new Set(decided.map((claim) => claim._id.toString()));
    for (const row of rows) {
      const [id, , , status] = row.split(',');
      expect(status, id).toBe(granted.has(id!) ? 'GRANTED' : 'PENDING');
    }
    expect(exported.commands.filter((command) => command === 'find claim_decisions')).toHaveLength(3);
  });

  it('an activity sent again is found by one equality of its externalId (FerretDB reads the whole collection for $in); a large batch sent again by one $in', async () => {
    const userId = newId();
    const item = (externalId: string) => ({ userId, type: 'PVP_WIN', occurredAt: '2025-12-02T00:00:00Z', externalId });
    const post = (body: unknown) => t.request('POST', '/activities', { token: operator.token, body });
    const batch = { items: Array.from({ length: 20 }, (_, index) => item(`again-batch-${userId}-${index}`)) };
    expect((await post(item(`again-${userId}`))).status).toBe(201);
    expect((await post(batch)).status).toBe(201);

    filters = [];
    const once = await counted(() => post(item(`again-${userId}`)));
    const single = filters;
    filters = [];
    const many = await counted(() => post(batch));
    const batched = filters;
    filters = undefined;
    expect(once.result.body).toMatchObject({ received: 1, inserted: 0, duplicates: 1 });
    expect(once.commands).toContain('find activities');
    expect(single).toContainEqual({ externalId: `again-${userId}` });
    expect(many.result.body).toMatchObject({ received: 20, inserted: 0, duplicates: 20 });
    expect(batched).toContainEqual({ externalId: { $in: batch.items.map((one) => one.externalId) } });
  });
});
