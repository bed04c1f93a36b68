import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Actor,
  claim,
  createClaimableEvent,
  eligibleUsers,
  judgeOwnerDead,
  remainingOf,
  stallAtKeyTaken,
} from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { ANSWER_OWED_HEADER, RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { ClaimFaults } from './claim-faults.js';

/**
 * Two event-server processes on one store, as two replicas behind the gateway: each has its own unit
 * frontier and its own memory of held slots, and only the store's unique indexes are shared.
 */
describe('claims on two replicas sharing one store', () => {
  let a: EventTestApp;
  let b: EventTestApp;

  beforeAll(async () => {
    a = await startEventTestApp('claims_replicas');
    const dbName = a.app.get<Connection>(getConnectionToken()).name;
    // One token issuer for both, as one auth server signs for every replica.
    b = await startEventTestApp('claims_replicas', { EVENT_DB_NAME: dbName, AUTH_JWKS_URL: a.issuer.jwksUrl });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it.each([
    ['one limited reward (its unit on the claim)', [{ type: 'POINT' as const, name: 'P', quantity: 1, stock: 30 }]],
    [
      'two limited rewards (one on the claim, one as unit documents)',
      [
        { type: 'POINT' as const, name: 'P', quantity: 1, stock: 30 },
        { type: 'ITEM' as const, name: 'I', quantity: 1, stock: 40, itemCode: 'I' },
      ],
    ],
  ])(
    '%s: 60 players tapping on both at once -> exactly the stock granted, one claim each, no unit twice',
    async (_label, rewards) => {
      const operator = a.as('OPERATOR');
      const event = await createClaimableEvent(a, operator, { rewards });
      const players = await eligibleUsers(a, operator, 60);
      const answers = await Promise.all(
        players.flatMap((player) => [claim(a, event.id, player), claim(b, event.id, player), claim(a, event.id, player)]),
      );
      const statuses = answers.map((answer) => `${answer.status} ${String(answer.body.code ?? answer.body.status)}`);
      expect(new Set(statuses)).toEqual(new Set(['201 GRANTED', '409 ALREADY_CLAIMED', '409 OUT_OF_STOCK']));
      const claims = a.app.get<Connection>(getConnectionToken()).collection('claims');
      const granted = await claims.find({ eventId: event.id, status: 'GRANTED' }).toArray();
      expect(granted).toHaveLength(30);
      expect(new Set(granted.map((doc) => doc.userId)).size).toBe(30);
      const unitKeys = granted.map((doc) => String(doc.unitKey));
      expect(new Set(unitKeys).size).toBe(30);
      expect(unitKeys.every((key) => /^[0-9a-f]{24}:([1-9]|[12][0-9]|30)$/.test(key))).toBe(true);
      expect(await claims.countDocuments({ eventId: event.id, unitKey: { $exists: true }, status: { $ne: 'GRANTED' } })).toBe(0);
      const expected = rewards.length === 1 ? [0] : [0, 10];
      expect(await remainingOf(a, event.id, players[0]!)).toEqual(expected);
      expect(await remainingOf(b, event.id, players[0]!)).toEqual(expected);
    },
  );

  it('a player who holds a claim is told ALREADY_CLAIMED after the condition was raised, by either replica', async () => {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [holder, other] = await eligibleUsers(a, operator, 2);
    expect((await claim(a, event.id, holder!)).status).toBe(201);
    // The operator raises the condition: neither player meets it now.
    const raised = await a.request('PATCH', `/events/${event.id}`, {
      token: operator.token,
      body: { condition: { type: 'ACTIVITY_COUNT', activity: 'CLAIM_TEST', count: 2 } },
    });
    expect(raised.status).toBe(200);
    // Replica a remembers the holder's slot; replica b never saw it (as after a restart): the same answer.
    for (const replica of [a, b]) {
      const again = await claim(replica, event.id, holder!);
      expect([again.status, again.body.code]).toEqual([409, 'ALREADY_CLAIMED']);
      const refused = await claim(replica, event.id, other!);
      expect([refused.status, refused.body.code]).toEqual([422, 'CONDITION_NOT_MET']);
    }
    expect(await remainingOf(b, event.id, holder!)).toEqual([4]);
  });

  it.each([
    [
      'one limited reward (its unit on the claim)',
      [{ type: 'COUPON' as const, name: 'C', quantity: 1, stock: 5, couponCode: 'C' }],
      [5],
    ],
    [
      'two limited rewards (PROCESSING, units)',
      [
        { type: 'POINT' as const, name: 'A', quantity: 1, stock: 5 },
        { type: 'ITEM' as const, name: 'B', quantity: 1, stock: 5, itemCode: 'B' },
      ],
      [5, 5],
    ],
  ])(
    '%s: a replica judged dead that was only stalled, waking after a retry on the other recorded a refusal, records nothing and answers that refusal',
    async (_label, rewards, untouched) => {
      const operator = a.as('OPERATOR');
      const event = await createClaimableEvent(a, operator, { rewards });
      const [player] = await eligibleUsers(a, operator, 1);
      const store = a.app.get<Connection>(getConnectionToken());
      // Replica a stalls right after taking the key (a long pause, a frozen VM), before it reads anything.
      const stall = stallAtKeyTaken(a);
      const first = claim(a, event.id, player!, 'k-frozen');
      await stall.untilStalled();
      // Replica a falls silent for longer than its beats allow (its key names an owner judged dead), and
      // the event is paused: the player's retry on replica b takes the key over and is refused.
      await judgeOwnerDead(a, player!.id, 'k-frozen');
      const patch = (status: string) => b.request('PATCH', `/events/${event.id}`, { token: operator.token, body: { status } });
      expect((await patch('INACTIVE')).status).toBe(200);
      const retried = await claim(b, event.id, player!, 'k-frozen');
      expect(retried.status).toBe(422);
      expect(retried.body.code).toBe('EVENT_NOT_ACTIVE');
      // The event is live again on replica a when it wakes (its write there drops a's cached copy): a would grant.
      expect(
        (await a.request('PATCH', `/events/${event.id}`, { token: operator.token, body: { status: 'ACTIVE' } })).status,
      ).toBe(200);
      stall.release();
      const woke = await first;
      expect(woke.status).toBe(422);
      expect(woke.body).toEqual(retried.body);
      const recorded = await store.collection('claims').find({ userId: player!.id }).toArray();
      expect(recorded.map((doc) => [doc.status, doc.reason])).toEqual([['REJECTED', 'EVENT_NOT_ACTIVE']]);
      expect(recorded[0]!.unitKey).toBeUndefined();
      expect(await store.collection('reward_units').countDocuments({ claimId: recorded[0]!._id.toString() })).toBe(0);
      expect((await claim(a, event.id, player!, 'k-frozen')).body).toEqual(retried.body);
      expect((await claim(b, event.id, player!, 'k-frozen')).body).toEqual(retried.body);
      expect(await remainingOf(a, event.id, player!)).toEqual(untouched);
    },
  );
});

describe('a replica that told a client its keyed claim is still running', () => {
  let a: EventTestApp;
  let b: EventTestApp;

  beforeAll(async () => {
    a = await startEventTestApp('claims_owed');
    const dbName = a.app.get<Connection>(getConnectionToken()).name;
    // Replica b works on one claim at once and queues none: one held claim fills its gate.
    b = await startEventTestApp('claims_owed', {
      EVENT_DB_NAME: dbName,
      AUTH_JWKS_URL: a.issuer.jwksUrl,
      CLAIM_MAX_IN_FLIGHT: '1',
      CLAIM_MAX_QUEUED: '0',
      // Two claim requests that count, then one a minute (see the last test).
      CLAIM_PLAYER_BURST: '2',
      CLAIM_PLAYER_PER_MINUTE: '1',
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  /**
   * The player's keyed claim has taken its key on replica a, which stalls before recording anything; the
   * gateway resends it to b (a dropped it, as far as the gateway can tell), and b answers for the key: 409,
   * still running. `first` is a's answer once `stall` is released.
   */
  async function toldStillRunning(eventId: string, player: Actor, key: string) {
    const stall = stallAtKeyTaken(a);
    const first = claim(a, eventId, player, key);
    await stall.untilStalled();
    const resent = await b.app.inject({
      method: 'POST',
      url: `/events/${eventId}/claims`,
      headers: { authorization: `Bearer ${player.token}`, 'idempotency-key': key, [RESENT_AFTER_DROP_HEADER]: '1' },
    });
    expect(resent.statusCode).toBe(409);
    expect(resent.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    // The answer tells the gateway that this key is owed its outcome, whichever replica the retry reaches.
    expect(resent.headers[ANSWER_OWED_HEADER]).toBe('1');
    return { first, stall };
  }

  /** Fills `t`'s gate (one claim at once, none queued) with `holder`'s claim, held until `release`. */
  async function fillGate(t: EventTestApp, eventId: string, holder: Actor) {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(t.app.get(ClaimFaults), 'at').mockImplementation(async (step) => {
      if (step !== 'claim-finished') return;
      entered();
      await held;
    });
    const other = claim(t, eventId, holder);
    await inside;
    return { other, release };
  }

  it('answers the retry of that key with its outcome while its gate is full; nobody else gets past the gate', async () => {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [player, holder, stranger] = await eligibleUsers(a, operator, 3);
    const { first, stall } = await toldStillRunning(event.id, player!, 'launch-tap');
    // Replica a records the grant; then another player's claim fills b's gate.
    stall.release();
    const granted = await first;
    expect(granted.status).toBe(201);
    const { other, release } = await fillGate(b, event.id, holder!);
    try {
      // The same key string from another player passes the arrival check (the token is not verified there)
      // but not the gate: it is owed nothing, and nothing is recorded.
      const foreign = await claim(b, event.id, stranger!, 'launch-tap');
      expect(foreign.status).toBe(503);
      expect(foreign.body).toMatchObject({ code: 'CLAIMS_BUSY' });
      // The player's retry on b gets the grant, where it used to be shed with CLAIMS_BUSY until the crowd was gone.
      const retry = await claim(b, event.id, player!, 'launch-tap');
      expect(retry.status).toBe(201);
      expect(retry.body).toMatchObject({ id: granted.body.id, status: 'GRANTED' });
      // Answered, nothing more is owed: another retry while the gate is full is shed like any claim.
      const again = await claim(b, event.id, player!, 'launch-tap');
      expect(again.status).toBe(503);
      expect(again.body).toMatchObject({ code: 'CLAIMS_BUSY' });
      release();
      expect((await other).status).toBe(201);
    } finally {
      release();
    }
    const store = a.app.get<Connection>(getConnectionToken());
    expect(await store.collection('claims').countDocuments({ eventId: event.id, userId: stranger!.id })).toBe(0);
    expect(await store.collection('claims').countDocuments({ eventId: event.id, userId: player!.id })).toBe(1);
    expect(await remainingOf(a, event.id, operator)).toEqual([3]);
  });

  it('answers a retry the gateway marks owed (a replica told it IDEMPOTENCY_IN_PROGRESS) for its key while the gate is full, where an unmarked one is shed', async () => {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [player, holder] = await eligibleUsers(a, operator, 2);
    // Replica a takes the player's key and stalls (it told the client "still running", then was killed, say).
    const stall = stallAtKeyTaken(a);
    const first = claim(a, event.id, player!, 'killed-tap');
    await stall.untilStalled();
    // Replica b's gate is full; b never answered this key.
    const { other, release } = await fillGate(b, event.id, holder!);
    try {
      const retry = (marked: boolean) =>
        b.app.inject({
          method: 'POST',
          url: `/events/${event.id}/claims`,
          headers: {
            authorization: `Bearer ${player!.token}`,
            'idempotency-key': 'killed-tap',
            ...(marked && { [ANSWER_OWED_HEADER]: '1' }),
          },
        });
      // Unmarked, b owes it nothing: shed, "nothing recorded", as before.
      const unmarked = await retry(false);
      expect(unmarked.statusCode).toBe(503);
      expect(unmarked.json()).toMatchObject({ code: 'CLAIMS_BUSY' });
      // Once a has recorded the grant, a retry the gateway marks owed gets it, the gate still full (while the key
      // had no outcome it went to the gate as any claim: see the last test).
      stall.release();
      const granted = await first;
      expect(granted.status).toBe(201);
      const answered = await retry(true);
      expect(answered.statusCode).toBe(201);
      expect(answered.json()).toMatchObject({ id: granted.body.id, status: 'GRANTED' });
      // A decision's answer carries no such mark.
      expect(answered.headers[ANSWER_OWED_HEADER]).toBeUndefined();
      // A marked retry turned away before its outcome was read (over the player's rate here) keeps its mark, so
      // that the gateway marks the next one too.
      const replies = [await retry(true), await retry(true)];
      expect(replies.map((reply) => reply.statusCode)).toEqual([201, 429]);
      expect(replies[1]!.headers[ANSWER_OWED_HEADER]).toBe('1');
      release();
      expect((await other).status).toBe(201);
    } finally {
      stall.release();
      release();
    }
    const store = a.app.get<Connection>(getConnectionToken());
    expect(await store.collection('claims').countDocuments({ eventId: event.id, userId: player!.id })).toBe(1);
  });

  it("counts an owed key's reads against the player's claim rate while the key has no outcome", async () => {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [player] = await eligibleUsers(a, operator, 1);
    const { first, stall } = await toldStillRunning(event.id, player!, 'stalled-tap');
    try {
      // Each retry reads the key outside the gate and is told it is still running; a client retrying at once
      // meets the rate (two, then one a minute) rather than reading the store without bound.
      const retries = [];
      for (let i = 0; i < 3; i++) retries.push(await claim(b, event.id, player!, 'stalled-tap'));
      expect(retries.map((reply) => `${reply.status} ${String(reply.body.code)}`)).toEqual([
        '409 IDEMPOTENCY_IN_PROGRESS',
        '409 IDEMPOTENCY_IN_PROGRESS',
        '429 TOO_MANY_REQUESTS',
      ]);
    } finally {
      stall.release();
    }
    expect((await first).status).toBe(201);
  });
});
