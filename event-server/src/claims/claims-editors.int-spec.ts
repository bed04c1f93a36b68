import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELIGIBLE_ACTIVITY, makeEligible } from '../../../test-support/claimable-event.js';
import { type Actor, claim, createClaimableEvent } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';

// Separation of duties, as for reviews and imports: staff who also play (OPERATOR with USER, or ADMIN) could
// make an event theirs by setting it up or changing it (an AUTO approval, a condition they meet, a richer
// reward) and then claim it. Whoever created or changed an event or one of its rewards does not claim it.
describe('claims by those who set up or changed the event', () => {
  let t: EventTestApp;
  let operator: Actor;

  beforeAll(async () => {
    t = await startEventTestApp('claims_editors');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  const claimsOf = async (eventId: string, userId: string) =>
    (
      await t.app.inject({
        method: 'GET',
        url: `/claims?eventId=${eventId}&userId=${userId}`,
        headers: { authorization: `Bearer ${operator.token}` },
      })
    ).json<{ total: number }>().total;

  it('refuses (403, nothing recorded) the creator, one who changed the event, and one who added or changed a reward', async () => {
    const creator = t.as('OPERATOR', 'USER');
    const patcher = t.as('OPERATOR', 'USER');
    const rewarder = t.as('ADMIN');
    const rewardPatcher = t.as('OPERATOR', 'USER');
    const player = t.as('USER');
    const event = await createClaimableEvent(t, creator, { rewards: [{ type: 'POINT', name: 'Points', quantity: 10 }] });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: { authorization: `Bearer ${patcher.token}` },
      payload: { title: 'Launch week, changed' },
    });
    expect(patched.statusCode).toBe(200);
    const added = await t.app.inject({
      method: 'POST',
      url: `/events/${event.id}/rewards`,
      headers: { authorization: `Bearer ${rewarder.token}` },
      payload: { type: 'ITEM', name: 'Sword', quantity: 1, itemCode: 'SWORD_01' },
    });
    expect(added.statusCode).toBe(201);
    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/rewards/${event.rewardIds[0]}`,
      headers: { authorization: `Bearer ${rewardPatcher.token}` },
      payload: { quantity: 1_000_000 },
    });
    expect(changed.statusCode).toBe(200);
    const everyone = [creator, patcher, rewarder, rewardPatcher, player];
    // Each meets the condition (another operator imports it: nobody imports their own).
    await makeEligible(
      t,
      operator.token,
      ELIGIBLE_ACTIVITY,
      everyone.map((actor) => actor.id),
    );

    for (const editor of [creator, patcher, rewarder, rewardPatcher]) {
      const refused = await claim(t, event.id, editor, `key-${editor.id}`);
      expect(refused.status, `editor ${[creator, patcher, rewarder, rewardPatcher].indexOf(editor)}`).toBe(403);
      expect(refused.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN', message: expect.stringMatching(/changed it/) });
      // With its key too, again: the same answer, and nothing recorded either time.
      expect((await claim(t, event.id, editor, `key-${editor.id}`)).status).toBe(403);
      expect(await claimsOf(event.id, editor.id)).toBe(0);
    }
    const granted = await claim(t, event.id, player);
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ status: 'GRANTED' });
  });

  it('binds no one whose change was refused or changed nothing', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'POINT', name: 'Points', quantity: 10 }],
    });
    const other = await createClaimableEvent(t, operator);
    const unchanged = t.as('OPERATOR', 'USER');
    const refused = t.as('OPERATOR', 'USER');
    const elsewhere = t.as('OPERATOR', 'USER');
    const noop = t.as('OPERATOR', 'USER');
    const patch = (actor: Actor, url: string, payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PATCH', url, headers: { authorization: `Bearer ${actor.token}` }, payload });
    // The values it already has; a stock on an unlimited reward (400); another event's reward (404); the event's title as it is.
    expect((await patch(unchanged, `/events/${event.id}/rewards/${event.rewardIds[0]}`, { quantity: 10 })).statusCode).toBe(200);
    expect((await patch(refused, `/events/${event.id}/rewards/${event.rewardIds[0]}`, { stock: 5 })).statusCode).toBe(400);
    expect((await patch(elsewhere, `/events/${event.id}/rewards/${other.rewardIds[0]}`, { quantity: 2 })).statusCode).toBe(404);
    const title = (
      await t.app.inject({ method: 'GET', url: `/events/${event.id}`, headers: { authorization: `Bearer ${operator.token}` } })
    ).json<{ title: string }>().title;
    expect((await patch(noop, `/events/${event.id}`, { title })).statusCode).toBe(200);
    // A reward added to an event that has all it may have: refused (409) before its author is named.
    const full = await createClaimableEvent(t, operator, {
      rewards: Array.from({ length: 20 }, (_, index) => ({ type: 'POINT' as const, name: `Points ${index}`, quantity: 1 })),
    });
    const overflow = t.as('OPERATOR', 'USER');
    const added = await t.app.inject({
      method: 'POST',
      url: `/events/${full.id}/rewards`,
      headers: { authorization: `Bearer ${overflow.token}` },
      payload: { type: 'POINT', name: 'One more', quantity: 1 },
    });
    expect(added.statusCode).toBe(409);
    expect(added.json()).toMatchObject({ code: 'TOO_MANY_REWARDS' });
    await makeEligible(t, operator.token, ELIGIBLE_ACTIVITY, [overflow.id]);
    expect((await claim(t, full.id, overflow)).status).toBe(201);
    const players = [unchanged, refused, elsewhere, noop];
    await makeEligible(
      t,
      operator.token,
      ELIGIBLE_ACTIVITY,
      players.map((actor) => actor.id),
    );
    for (const player of players) expect((await claim(t, event.id, player)).status).toBe(201);
  });

  it('binds only the event they touched: its editors claim another event as any player', async () => {
    const creator = t.as('OPERATOR', 'USER');
    await createClaimableEvent(t, creator);
    const other = await createClaimableEvent(t, operator);
    await makeEligible(t, operator.token, ELIGIBLE_ACTIVITY, [creator.id]);
    const granted = await claim(t, other.id, creator);
    expect(granted.status).toBe(201);
  });
});
