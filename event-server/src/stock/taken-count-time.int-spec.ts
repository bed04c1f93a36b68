import { getConnectionToken } from '@nestjs/mongoose';
import { type Connection, mongo } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type Actor, createClaimableEvent } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { ClaimUnitRepository } from './claim-unit.repository.js';
import { RewardUnitRepository } from './reward-unit.repository.js';

/** The store's time each count is given here: a value no driver or store default has. */
const READ_MAX_MS = 7_321;

/** The store's own answer to a command past its maxTimeMS, as MongoDB and FerretDB send it. */
const expired = (): Error =>
  new mongo.MongoServerError({ ok: 0, code: 50, codeName: 'MaxTimeMSExpired', errmsg: 'operation exceeded time limit' });

/**
 * The count of a reward's taken units behind `remaining` reads every unit taken (20,000 grants: 1.5 to 8 s of
 * FerretDB's time). It had no time limit: a count the store could not finish held every view of the event (the
 * players' views wait for the shared count when there is none) for as long as it ran, after the gateway had answered
 * 504. Each count now carries LIST_READ_MAX_MS, and one the store stopped is a 503 with Retry-After, not a 500.
 */
describe("the counts behind a reward's remaining are bounded in store time (LIST_READ_MAX_MS)", () => {
  let t: EventTestApp;
  let operator: Actor;
  /** The counts (aggregate commands) sent on the units' collections while set, with their maxTimeMS. */
  let counts: Array<{ collection: string; maxTimeMS: unknown }> | undefined;

  beforeAll(async () => {
    t = await startEventTestApp('taken_count_time', {
      LIST_READ_MAX_MS: String(READ_MAX_MS),
      // The event catalog outlives a slow machine's pause between two requests of one test.
      CLAIM_CATALOG_TTL_MS: '60000',
      MONGODB_URI: `${inject('mongoUri')}${inject('mongoUri').includes('?') ? '&' : '?'}monitorCommands=true`,
    });
    operator = t.as('OPERATOR');
    t.app
      .get<Connection>(getConnectionToken())
      .getClient()
      .on('commandStarted', (event) => {
        const command = event.command as Record<string, unknown>;
        const collection = command[event.commandName];
        if (event.commandName === 'aggregate' && (collection === 'claims' || collection === 'reward_units'))
          counts?.push({ collection, maxTimeMS: command.maxTimeMS });
      });
  });

  afterEach(() => {
    counts = undefined;
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  /** An event with two limited rewards: one whose units are on its claims, one in reward_units. */
  const twoLimited = () =>
    createClaimableEvent(t, operator, {
      rewards: [
        { type: 'POINT', name: 'On claims', quantity: 1, stock: 10 },
        { type: 'POINT', name: 'In units', quantity: 1, stock: 10 },
      ],
    });

  const view = (id: string, token: string) =>
    t.app.inject({ method: 'GET', url: `/events/${id}`, headers: { authorization: `Bearer ${token}` } });

  it.each([
    ['staff', () => operator.token],
    ['a player', () => t.as('USER').token],
  ])("%s's view of an event counts each limited reward's units with maxTimeMS", async (_who, token) => {
    const event = await twoLimited();
    counts = [];
    const answer = await view(event.id, token());
    expect(answer.statusCode).toBe(200);
    expect(answer.json<{ rewards: Array<{ remaining: number }> }>().rewards.map((reward) => reward.remaining)).toEqual([10, 10]);
    expect(counts.map((count) => count.collection).sort()).toEqual(['claims', 'reward_units']);
    for (const count of counts) expect(count.maxTimeMS).toBe(READ_MAX_MS);
  });

  it.each([
    ['staff', () => operator.token, ClaimUnitRepository],
    ['a player', () => t.as('USER').token, RewardUnitRepository],
  ])(
    "%s's view whose count the store stopped is answered 503 with Retry-After, and the next view counts again",
    async (_who, token, repository) => {
      const event = await twoLimited();
      vi.spyOn(t.app.get(repository), 'countTaken').mockRejectedValueOnce(expired());
      const stopped = await view(event.id, token());
      expect(stopped.statusCode).toBe(503);
      expect(stopped.headers['retry-after']).toBe('5');
      expect(stopped.json()).toMatchObject({
        statusCode: 503,
        code: 'SERVICE_UNAVAILABLE',
        message: expect.stringContaining('LIST_READ_MAX_MS'),
      });

      const again = await view(event.id, token());
      expect(again.statusCode).toBe(200);
      expect(again.json<{ rewards: Array<{ remaining: number }> }>().rewards.map((reward) => reward.remaining)).toEqual([10, 10]);
    },
  );

  it("a reward's change whose count of the units after the write the store stopped is a 503 that says the change was made", async () => {
    const event = await twoLimited();
    const rewardId = event.rewardIds[0]!;
    vi.spyOn(t.app.get(ClaimUnitRepository), 'countTaken').mockRejectedValueOnce(expired());
    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/rewards/${rewardId}`,
      headers: { authorization: `Bearer ${operator.token}` },
      payload: { name: 'Renamed', stock: 12 },
    });
    expect(changed.statusCode).toBe(503);
    expect(changed.headers['retry-after']).toBe('5');
    const { message } = changed.json<{ message: string }>();
    // It was: "...; nothing was changed: try again later", of a change that stands.
    expect(message).not.toContain('nothing was changed');
    expect(message).toContain('The reward was changed');

    const rewards = await t.app.inject({
      method: 'GET',
      url: `/events/${event.id}/rewards`,
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(
      rewards.json<Array<{ id: string; name: string; remaining: number }>>().find((reward) => reward.id === rewardId),
    ).toMatchObject({
      name: 'Renamed',
      remaining: 12,
    });
  });

  it("a reward's change that changes nothing, whose count the store stopped, is the view's 503: nothing was changed", async () => {
    const event = await twoLimited();
    vi.spyOn(t.app.get(ClaimUnitRepository), 'countTaken').mockRejectedValueOnce(expired());
    const same = await t.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/rewards/${event.rewardIds[0]!}`,
      headers: { authorization: `Bearer ${operator.token}` },
      payload: { name: 'On claims' },
    });
    expect(same.statusCode).toBe(503);
    expect(same.json<{ message: string }>().message).toContain('nothing was changed');
  });
});
