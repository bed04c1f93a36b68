import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, countBy, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';

describe('claims: cases of several limited rewards, review races and top-ups', () => {
  let t: EventTestApp;
  let operator: Actor;
  let reviewer: Actor;
  let store: Connection;

  beforeAll(async () => {
    t = await startEventTestApp('claims_cases');
    operator = t.as('OPERATOR');
    reviewer = t.as('OPERATOR');
    store = t.app.get<Connection>(getConnectionToken());
  });

  afterAll(async () => {
    await t?.close();
  });

  const staffRemaining = async (eventId: string): Promise<Array<number | null>> => {
    const reply = await t.request<Array<{ remaining: number | null }>>('GET', `/events/${eventId}/rewards`, {
      token: reviewer.token,
    });
    return reply.body.map((reward) => reward.remaining);
  };

  const held = async (eventId: string): Promise<{ onClaims: number; documents: number; holding: number }> => {
    const claims = store.collection('claims');
    const onClaims = await claims.countDocuments({ eventId, unitKey: { $exists: true } });
    const holding = await claims.countDocuments({ eventId, status: { $in: ['GRANTED', 'PENDING', 'PROCESSING'] } });
    const claimIds = (await claims.find({ eventId }, { projection: { _id: 1 } }).toArray()).map((doc) => String(doc._id));
    const documents = await store.collection('reward_units').countDocuments({ claimId: { $in: claimIds } });
    return { onClaims, documents, holding };
  };

  it('two limited rewards, the second runs out first: one grant, the first reward not leaked', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [
        { type: 'ITEM', name: 'Many', quantity: 1, stock: 5, itemCode: 'MANY' },
        { type: 'ITEM', name: 'One', quantity: 1, stock: 1, itemCode: 'ONE' },
      ],
    });
    const users = await eligibleUsers(t, operator, 8);
    const replies = await Promise.all(users.map((user) => claim(t, event.id, user)));
    expect(countBy(replies, (reply) => `${reply.status}:${String(reply.body.status)}:${String(reply.body.code)}`)).toEqual({
      '201:GRANTED:undefined': 1,
      '409:REJECTED:OUT_OF_STOCK': 7,
    });
    expect(await staffRemaining(event.id)).toEqual([4, 0]);
    expect(await held(event.id)).toEqual({ onClaims: 1, documents: 1, holding: 1 });
  });

  it('MANUAL, two limited rewards: reject and revoke give both back, racing new claims never oversell', async () => {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [
        { type: 'ITEM', name: 'A', quantity: 1, stock: 2, itemCode: 'A' },
        { type: 'ITEM', name: 'B', quantity: 1, stock: 1, itemCode: 'B' },
      ],
    });
    const users = await eligibleUsers(t, operator, 12);
    const first = await claim(t, event.id, users[0]!);
    expect(first.body.status).toBe('PENDING');
    expect(await staffRemaining(event.id)).toEqual([1, 0]);
    const id = String(first.body.id);
    // Approve and reject race each other and a crowd of new claims.
    const [approve, reject, ...crowd] = await Promise.all([
      t.request('POST', `/claims/${id}/approve`, { token: reviewer.token }),
      t.request('POST', `/claims/${id}/reject`, { token: operator.token, body: { note: 'no' } }),
      ...users.slice(1, 6).map((user) => claim(t, event.id, user)),
    ]);
    const statuses = [approve.status, reject.status].sort();
    expect(statuses).toEqual([200, 409]);
    const after = await held(event.id);
    expect(after.holding).toBeLessThanOrEqual(1);
    expect(after.onClaims).toBe(after.holding);
    expect(after.documents).toBe(after.holding);
    const grantedOrPending = crowd.filter((reply) => reply.status === 201).length;
    expect(grantedOrPending + (approve.status === 200 ? 1 : 0)).toBe(after.holding);
    const remaining = await staffRemaining(event.id);
    expect(remaining).toEqual([2 - after.holding, 1 - after.holding]);

    // Revoke/reject whatever holds (if anything does), while more claims come: stock goes back, at most one holds.
    const holder = await store.collection('claims').findOne({ eventId: event.id, status: { $in: ['GRANTED', 'PENDING'] } });
    const action = holder?.status === 'GRANTED' ? 'revoke' : 'reject';
    const [decided, ...more] = await Promise.all([
      holder
        ? t.request('POST', `/claims/${String(holder._id)}/${action}`, { token: reviewer.token, body: { note: 'undo' } })
        : Promise.resolve({ status: 200 }),
      ...users.slice(6).map((user) => claim(t, event.id, user)),
    ]);
    expect(decided.status).toBe(200);
    const last = await held(event.id);
    expect(last.holding).toBeLessThanOrEqual(1);
    expect(last.onClaims).toBe(last.holding);
    expect(last.documents).toBe(last.holding);
    expect(more.filter((reply) => reply.status === 201).length).toBe(last.holding);
    expect(await staffRemaining(event.id)).toEqual([2 - last.holding, 1 - last.holding]);
  });

  it('a sold-out reward topped up is claimable again at once', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'ITEM', name: 'A', quantity: 1, stock: 1, itemCode: 'A' }],
    });
    const users = await eligibleUsers(t, operator, 4);
    expect((await claim(t, event.id, users[0]!)).status).toBe(201);
    expect((await claim(t, event.id, users[1]!)).body.code).toBe('OUT_OF_STOCK');
    const topUp = await t.request('PATCH', `/events/${event.id}/rewards/${event.rewardIds[0]}`, {
      token: reviewer.token,
      body: { stock: 3 },
    });
    expect(topUp.status).toBe(200);
    const replies = await Promise.all(users.slice(1).map((user) => claim(t, event.id, user)));
    expect(replies.map((reply) => reply.status).sort()).toEqual([201, 201, 409]);
    expect(await staffRemaining(event.id)).toEqual([0]);
  });

  it('an event set INACTIVE mid-burst: no claim started after the change is granted', async () => {
    const event = await createClaimableEvent(t, operator);
    const users = await eligibleUsers(t, operator, 20);
    const early = users.slice(0, 10).map((user) => claim(t, event.id, user));
    const patched = await t.request('PATCH', `/events/${event.id}`, { token: operator.token, body: { status: 'INACTIVE' } });
    expect(patched.status).toBe(200);
    await Promise.all(early);
    const late = await Promise.all(users.slice(10).map((user) => claim(t, event.id, user)));
    expect(late.map((reply) => reply.body.code)).toEqual(late.map(() => 'EVENT_NOT_ACTIVE'));
  });

  it('Idempotency-Key reused for another event, or by another player', async () => {
    const one = await createClaimableEvent(t, operator);
    const two = await createClaimableEvent(t, operator);
    const [alice, bob] = await eligibleUsers(t, operator, 2);
    const first = await claim(t, one.id, alice!, 'key-1');
    expect(first.status).toBe(201);
    const other = await claim(t, two.id, alice!, 'key-1');
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const bobs = await claim(t, one.id, bob!, 'key-1');
    expect(bobs.status).toBe(201);
    expect(bobs.body.userId).toBe(bob!.id);
    const withBody = await t.app.inject({
      method: 'POST',
      url: `/events/${one.id}/claims`,
      headers: { authorization: `Bearer ${alice!.token}`, 'idempotency-key': 'key-1', 'content-type': 'application/json' },
      payload: JSON.stringify({ x: 1 }),
    });
    expect(withBody.statusCode).toBe(400);
  });
});

describe('claims: Idempotency-Key replays after the claim moved on', () => {
  let t: EventTestApp;
  let operator: Actor;
  let reviewer: Actor;

  beforeAll(async () => {
    t = await startEventTestApp('claims_cases_keys');
    operator = t.as('OPERATOR');
    reviewer = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('replays the first answer after a reject, an approve, or a revoke, and records nothing new', async () => {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'ITEM', name: 'A', quantity: 1, stock: 3, itemCode: 'A' }],
    });
    const users = await eligibleUsers(t, operator, 3);
    const store = t.app.get<Connection>(getConnectionToken());
    const actions: Array<Array<[string, unknown?]>> = [
      [['reject', { note: 'n' }]],
      [['approve']],
      [['approve'], ['revoke', { note: 'n' }]],
    ];
    for (const [index, user] of users.entries()) {
      const first = await claim(t, event.id, user, 'k');
      expect(first.status).toBe(201);
      for (const [action, body] of actions[index]!) {
        const done = await t.request('POST', `/claims/${String(first.body.id)}/${action}`, { token: reviewer.token, body });
        expect(done.status).toBe(200);
      }
      const again = await claim(t, event.id, user, 'k');
      expect({ status: again.status, id: again.body.id }).toEqual({ status: 201, id: first.body.id });
      expect(await store.collection('claims').countDocuments({ eventId: event.id, userId: user.id })).toBe(1);
      const fresh = await claim(t, event.id, user, 'k2');
      expect(fresh.body.code).toBe('ALREADY_CLAIMED');
    }
  });

  it('replays CONDITION_NOT_MET for the same key once the player is eligible; a new key is granted', async () => {
    const event = await createClaimableEvent(t, operator);
    const player = t.as('USER');
    const first = await claim(t, event.id, player, 'k');
    expect(first.body.code).toBe('CONDITION_NOT_MET');
    await t.request('POST', '/activities', { token: operator.token, body: { userId: player.id, type: 'CLAIM_TEST' } });
    const again = await claim(t, event.id, player, 'k');
    expect({ status: again.status, id: again.body.id }).toEqual({ status: 422, id: first.body.id });
    expect((await claim(t, event.id, player, 'k3')).status).toBe(201);
  });
});

describe('claims: limited rewards added while a burst runs', () => {
  let t: EventTestApp;
  beforeAll(async () => {
    t = await startEventTestApp('claims_cases_added');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every granted claim holds a unit of each limited reward it lists; none past its stock', async () => {
    const operator = t.as('OPERATOR');
    const event = await createClaimableEvent(t, operator);
    const users = await eligibleUsers(t, operator, 40);
    const adds = (async () => {
      const b = await t.request<{ id: string }>('POST', `/events/${event.id}/rewards`, {
        token: operator.token,
        body: { type: 'ITEM', name: 'B', quantity: 1, stock: 5, itemCode: 'B' },
      });
      const c = await t.request<{ id: string }>('POST', `/events/${event.id}/rewards`, {
        token: operator.token,
        body: { type: 'ITEM', name: 'C', quantity: 1, stock: 2, itemCode: 'C' },
      });
      return [b.body.id, c.body.id];
    })();
    const replies = await Promise.all(users.map((user) => claim(t, event.id, user)));
    const [b, c] = await adds;
    const store = t.app.get<Connection>(getConnectionToken());
    const granted = await store.collection('claims').find({ eventId: event.id, status: 'GRANTED' }).toArray();
    const problems: unknown[] = [];
    const perReward: Record<string, number> = {};
    for (const doc of granted) {
      for (const reward of doc.rewards as Array<{ rewardId: string }>) {
        if (reward.rewardId !== b && reward.rewardId !== c) continue;
        const onClaim = doc.unitRewardId === reward.rewardId;
        const asDocument = await store
          .collection('reward_units')
          .countDocuments({ rewardId: reward.rewardId, claimId: String(doc._id) });
        if ((onClaim ? 1 : 0) + asDocument !== 1)
          problems.push({ claim: String(doc._id), reward: reward.rewardId, onClaim, asDocument });
        perReward[reward.rewardId] = (perReward[reward.rewardId] ?? 0) + 1;
      }
    }
    // Every answer is a grant or a sold-out refusal, and the grants answered are the grants recorded.
    const answers = countBy(replies, (reply) => `${reply.status}:${String(reply.body.code ?? reply.body.status)}`);
    expect(Object.keys(answers).filter((answer) => answer !== '201:GRANTED' && answer !== '409:OUT_OF_STOCK')).toEqual([]);
    expect(answers['201:GRANTED'] ?? 0).toBe(granted.length);
    expect(problems).toEqual([]);
    expect(perReward[b!] ?? 0).toBeLessThanOrEqual(5);
    expect(perReward[c!] ?? 0).toBeLessThanOrEqual(2);
  });
});

describe('claims: at the edges of the period', () => {
  let t: EventTestApp;
  beforeAll(async () => {
    t = await startEventTestApp('claims_cases_edges');
  });
  afterAll(async () => {
    vi.useRealTimers();
    await t?.close();
  });

  it('a claim at exactly startAt or endAt is decided (both ends included), a millisecond outside is not', async () => {
    const operator = t.as('OPERATOR');
    const startAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    const endAt = new Date(startAt.getTime() + 120_000);
    const event = await createClaimableEvent(t, operator, { startAt, endAt });
    // Only Date is faked (no timer): the players' activity is recorded at startAt, inside the period, and each
    // claim is made with the server's clock at the instant tried.
    vi.useFakeTimers({ toFake: ['Date'], now: startAt.getTime() });
    const users = await eligibleUsers(t, operator, 4);
    vi.useRealTimers();
    const at = async (instant: number, user: (typeof users)[number]) => {
      vi.useFakeTimers({ toFake: ['Date'], now: instant });
      try {
        return await claim(t, event.id, user);
      } finally {
        vi.useRealTimers();
      }
    };
    const results = [
      await at(startAt.getTime() - 1, users[0]!),
      await at(startAt.getTime(), users[1]!),
      await at(endAt.getTime(), users[2]!),
      await at(endAt.getTime() + 1, users[3]!),
    ].map((reply) => `${reply.status}:${String(reply.body.code ?? reply.body.status)}`);
    expect(results).toEqual(['422:EVENT_NOT_ACTIVE', '201:GRANTED', '201:GRANTED', '422:EVENT_NOT_ACTIVE']);
  });
});
