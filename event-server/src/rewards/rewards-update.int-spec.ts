import { getConnectionToken } from '@nestjs/mongoose';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers, remainingOf } from '../testing/claim-test-kit.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { expectRefusedLate, holdEditLock, pastStartByWhileWaiting } from '../testing/held-edit-lock.js';

/** An operator fixing a live event's reward: a top-up of a sold-out stock, a wrong coupon code. */
describe('PATCH /events/{id}/rewards/{rewardId}', () => {
  let t: EventTestApp;
  let operator: Actor;

  beforeAll(async () => {
    t = await startEventTestApp('rewards_update');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  const patch = (eventId: string, rewardId: string, body: unknown, token = operator.token) =>
    t.request('PATCH', `/events/${eventId}/rewards/${rewardId}`, { token, body });

  it('raises a sold-out stock: the players refused OUT_OF_STOCK claim again and are granted, never past the new stock', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'Launch coupon', quantity: 1, stock: 2, couponCode: 'LAUNCH-1' }],
    });
    const rewardId = event.rewardIds[0]!;
    const players = await eligibleUsers(t, operator, 5);
    const first = await Promise.all(players.map((player) => claim(t, event.id, player)));
    expect(first.map((answer) => answer.body.code ?? answer.body.status).sort()).toEqual([
      'GRANTED',
      'GRANTED',
      'OUT_OF_STOCK',
      'OUT_OF_STOCK',
      'OUT_OF_STOCK',
    ]);
    // A wrong code fixed and two more units, in one change.
    const topped = await patch(event.id, rewardId, { stock: 4, couponCode: 'LAUNCH-2' });
    expect(topped.status).toBe(200);
    expect(topped.body).toMatchObject({ id: rewardId, stock: 4, remaining: 2, couponCode: 'LAUNCH-2' });
    const refused = players.filter((_, index) => first[index]!.body.code === 'OUT_OF_STOCK');
    const again = await Promise.all(refused.map((player) => claim(t, event.id, player)));
    expect(again.map((answer) => answer.body.code ?? answer.body.status).sort()).toEqual(['GRANTED', 'GRANTED', 'OUT_OF_STOCK']);
    expect(await remainingOf(t, event.id, operator)).toEqual([0]);
    // Each claim keeps the code of its time: the first two the old one, the later two the new one.
    const claims = t.app.get<Connection>(getConnectionToken()).collection('claims');
    const granted = await claims.find({ eventId: event.id, status: 'GRANTED' }).toArray();
    expect(granted.map((doc) => (doc.rewards as Array<{ couponCode: string }>)[0]!.couponCode).sort()).toEqual([
      'LAUNCH-1',
      'LAUNCH-1',
      'LAUNCH-2',
      'LAUNCH-2',
    ]);
    const trail = await t.request<{ items: Array<Record<string, unknown>> }>('GET', `/audit-logs?targetId=${rewardId}`, {
      token: t.as('AUDITOR').token,
    });
    expect(trail.body.items[0]).toMatchObject({
      action: 'REWARD_UPDATED',
      actorId: operator.id,
      changes: { stock: { before: 2, after: 4 }, couponCode: { before: 'LAUNCH-1', after: 'LAUNCH-2' } },
    });
  });

  it('refuses a code starting with . _ : or -, and its message says what a code must start with', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'Coupon', quantity: 1, couponCode: 'C-1' }],
    });
    const added = await t.request('POST', `/events/${event.id}/rewards`, {
      token: operator.token,
      body: { type: 'ITEM', name: 'Sword', quantity: 1, itemCode: '-SWORD' },
    });
    const changed = await patch(event.id, event.rewardIds[0]!, { couponCode: '_C1' });
    for (const [reply, field] of [
      [added, 'itemCode'],
      [changed, 'couponCode'],
    ] as const) {
      expect([reply.status, reply.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      // "1-64 letters, digits or . _ : -" alone describes '-SWORD' too: the message must name the rule it breaks.
      expect(reply.body.message).toEqual([`${field} must be 1-64 letters, digits or . _ : -, starting with a letter or digit`]);
    }
  });

  it('refuses a lower stock, a stock on an unlimited reward, a code the type does not take, and changes nothing', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [
        { type: 'ITEM', name: 'Sword', quantity: 1, stock: 10, itemCode: 'SWORD' },
        { type: 'POINT', name: 'Points', quantity: 100 },
      ],
    });
    const [item, points] = event.rewardIds as [string, string];
    const cases: Array<[string, unknown, RegExp]> = [
      [item, { stock: 9 }, /stock may only be raised: it is 10/],
      [points, { stock: 5 }, /unlimited and stays so/],
      [item, { couponCode: 'X' }, /couponCode is not allowed for an ITEM reward/],
      [points, { itemCode: 'X' }, /itemCode is not allowed for a POINT reward/],
    ];
    for (const [rewardId, body, message] of cases) {
      const reply = await patch(event.id, rewardId, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code).toBe('INVALID_REWARD');
      expect(JSON.stringify(reply.body.message)).toMatch(message);
    }
    for (const body of [{ type: 'COUPON' }, { name: '   ' }, { quantity: 0 }, { stock: null }, { stock: 1.5 }]) {
      const reply = await patch(event.id, item, body);
      expect([reply.status, reply.body.code], JSON.stringify(body)).toEqual([400, 'VALIDATION_FAILED']);
    }
    const rewards = await t.request<Array<Record<string, unknown>>>('GET', `/events/${event.id}/rewards`, {
      token: operator.token,
    });
    expect(rewards.body.map(({ name, stock, itemCode }) => [name, stock, itemCode])).toEqual([
      ['Sword', 10, 'SWORD'],
      ['Points', null, undefined],
    ]);
    // Renamed and raised: 200; the same again changes nothing and is not audited twice.
    expect((await patch(event.id, item, { name: ' Great sword ', quantity: 2, stock: 10 })).body).toMatchObject({
      name: 'Great sword',
      quantity: 2,
      stock: 10,
    });
    expect((await patch(event.id, item, { name: 'Great sword' })).status).toBe(200);
    const trail = await t.request<{ items: unknown[] }>('GET', `/audit-logs?targetId=${item}&action=REWARD_UPDATED`, {
      token: t.as('AUDITOR').token,
    });
    expect(trail.body.items).toHaveLength(1);
  });

  it('answers 404 for a reward of another event or none, 403 for a USER, 400 for a malformed id', async () => {
    const event = await createClaimableEvent(t, operator);
    const other = await createClaimableEvent(t, operator);
    expect((await patch(event.id, other.rewardIds[0]!, { name: 'x' })).body.code).toBe('REWARD_NOT_FOUND');
    expect((await patch(event.id, newId(), { name: 'x' })).status).toBe(404);
    expect((await patch(newId(), event.rewardIds[0]!, { name: 'x' })).body.code).toBe('EVENT_NOT_FOUND');
    expect((await patch(event.id, event.rewardIds[0]!, { name: 'x' }, t.as('USER').token)).status).toBe(403);
    expect((await patch(event.id, 'not-an-id', { name: 'x' })).status).toBe(400);
  });

  describe('sent by the gateway (a start-by time) while another change holds a lock it needs', () => {
    const patchSentAs = (actor: Actor, eventId: string, rewardId: string, body: unknown) => (headers: Record<string, string>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/events/${eventId}/rewards/${rewardId}`,
        headers: { authorization: `Bearer ${actor.token}`, 'content-type': 'application/json', ...headers },
        payload: JSON.stringify(body),
      });

    const stockOf = async (eventId: string, rewardId: string) => {
      const rewards = await t.request<Array<{ id: string; stock: number }>>('GET', `/events/${eventId}/rewards`, {
        token: operator.token,
      });
      return rewards.body.find((reward) => reward.id === rewardId)?.stock;
    };

    const updatesAudited = async (rewardId: string) =>
      (
        await t.request<{ items: unknown[] }>('GET', `/audit-logs?targetId=${rewardId}&action=REWARD_UPDATED`, {
          token: t.as('AUDITOR').token,
        })
      ).body.items.length;

    it("is refused 503 and changes nothing when its time passes while it waits for the reward's lock", async () => {
      const event = await createClaimableEvent(t, operator, {
        rewards: [{ type: 'ITEM', name: 'Sword', quantity: 1, stock: 150, itemCode: 'SWORD' }],
      });
      const rewardId = event.rewardIds[0]!;
      const held = await holdEditLock(t, `reward:${rewardId}`);
      expectRefusedLate(await pastStartByWhileWaiting(held, patchSentAs(operator, event.id, rewardId, { stock: 200 })));
      expect(await stockOf(event.id, rewardId)).toBe(150);
      expect(await updatesAudited(rewardId)).toBe(0);
      // With time left, the same change is made.
      const inTime = await patchSentAs(operator, event.id, rewardId, { stock: 200 })({
        [START_BY_HEADER]: String(Date.now() + 60_000),
      });
      expect([inTime.statusCode, inTime.json().stock]).toEqual([200, 200]);
    });

    it("is refused 503 and changes nothing when its time passes while it waits for the event's lock to name its author", async () => {
      const event = await createClaimableEvent(t, operator, {
        rewards: [{ type: 'ITEM', name: 'Sword', quantity: 1, stock: 150, itemCode: 'SWORD' }],
      });
      const rewardId = event.rewardIds[0]!;
      // An operator who has not changed this event yet: named among its editors, under its lock, before the write.
      const newcomer = t.as('OPERATOR');
      const held = await holdEditLock(t, `event:${event.id}`);
      expectRefusedLate(await pastStartByWhileWaiting(held, patchSentAs(newcomer, event.id, rewardId, { stock: 300 })));
      expect(await stockOf(event.id, rewardId)).toBe(150);
      expect(await updatesAudited(rewardId)).toBe(0);
      const events = t.app.get<Connection>(getConnectionToken()).collection('events');
      expect(await events.countDocuments({ editorIds: newcomer.id })).toBe(0);
    });

    it('adds no reward when its time passes while it waits to name its author (POST)', async () => {
      const event = await createClaimableEvent(t, operator);
      const newcomer = t.as('OPERATOR');
      const held = await holdEditLock(t, `event:${event.id}`);
      const reply = await pastStartByWhileWaiting(held, (headers) =>
        t.app.inject({
          method: 'POST',
          url: `/events/${event.id}/rewards`,
          headers: { authorization: `Bearer ${newcomer.token}`, 'content-type': 'application/json', ...headers },
          payload: JSON.stringify({ type: 'POINT', name: 'Late points', quantity: 5 }),
        }),
      );
      expectRefusedLate(reply);
      const rewards = await t.request<Array<{ name: string }>>('GET', `/events/${event.id}/rewards`, { token: operator.token });
      expect(rewards.body.map((reward) => reward.name)).not.toContain('Late points');
    });
  });
});
