import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Actor,
  type RewardInput,
  claim,
  countBy,
  createClaimableEvent,
  eligibleUsers,
  remainingOf,
} from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { ClaimFaults, type ClaimStep } from './claim-faults.js';

describe('claims under concurrency', () => {
  let t: EventTestApp;
  let operator: Actor;

  beforeAll(async () => {
    t = await startEventTestApp('claims_concurrency');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each<[string, RewardInput[]]>([
    ['a limited reward', [{ type: 'POINT', name: 'P', quantity: 1, stock: 50 }]],
    ['no limited reward (the claim is born decided)', [{ type: 'POINT', name: 'P', quantity: 1 }]],
  ])('200 parallel claims by one user, %s: exactly one GRANTED, 199 ALREADY_CLAIMED, no 5xx', async (_kind, rewards) => {
    const event = await createClaimableEvent(t, operator, { rewards });
    const [user] = await eligibleUsers(t, operator, 1);
    const replies = await Promise.all(Array.from({ length: 200 }, () => claim(t, event.id, user!)));
    expect(countBy(replies, (reply) => `${reply.status} ${String(reply.body.code ?? reply.body.status)}`)).toEqual({
      '201 GRANTED': 1,
      '409 ALREADY_CLAIMED': 199,
    });
    expect(await remainingOf(t, event.id, user!)).toEqual(rewards[0]!.stock === undefined ? [null] : [49]);
    const granted = await t.request<{ total: number }>('GET', `/claims/me?eventId=${event.id}&status=GRANTED`, {
      token: user!.token,
    });
    expect(granted.body.total).toBe(1);
    const all = await t.request<{ total: number }>('GET', `/claims/me?eventId=${event.id}`, { token: user!.token });
    expect(all.body.total).toBe(200);
  });

  it('stock 20, 100 eligible users in parallel: exactly 20 GRANTED, 80 OUT_OF_STOCK, remaining 0', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'Last coupons', quantity: 1, stock: 20, couponCode: 'LAST' }],
    });
    const users = await eligibleUsers(t, operator, 100);
    const replies = await Promise.all(users.map((user) => claim(t, event.id, user)));
    expect(countBy(replies, (reply) => `${reply.status} ${String(reply.body.code ?? reply.body.status)}`)).toEqual({
      '201 GRANTED': 20,
      '409 OUT_OF_STOCK': 80,
    });
    expect(await remainingOf(t, event.id, operator)).toEqual([0]);
    // Out of stock is a system rejection: it does not block, it just stays out of stock.
    const retry = await claim(
      t,
      event.id,
      users.find((_, index) => replies[index]!.status === 409)!,
    );
    expect(retry.body.code).toBe('OUT_OF_STOCK');
  });

  it('two rewards, one with stock 1: all or none, the unit of the other reward is given back', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [
        { type: 'POINT', name: 'Plenty', quantity: 10, stock: 100 },
        { type: 'ITEM', name: 'Unique', quantity: 1, stock: 1, itemCode: 'ONE' },
      ],
    });
    const users = await eligibleUsers(t, operator, 12);
    const replies = await Promise.all(users.map((user) => claim(t, event.id, user)));
    expect(countBy(replies, (reply) => String(reply.body.code ?? reply.body.status))).toEqual({ GRANTED: 1, OUT_OF_STOCK: 11 });
    expect(await remainingOf(t, event.id, operator)).toEqual([99, 0]);
  });

  it('two operators approving at once: one 200, one 409 INVALID_TRANSITION; approve vs reject likewise', async () => {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 10 }],
    });
    const users = await eligibleUsers(t, operator, 2);
    const [a, b] = await Promise.all(users.map((user) => claim(t, event.id, user)));
    const second = t.as('OPERATOR');
    const approvals = await Promise.all(
      [operator, second].map((who) => t.request('POST', `/claims/${String(a!.body.id)}/approve`, { token: who.token })),
    );
    expect(approvals.map((reply) => reply.status).sort()).toEqual([200, 409]);
    expect(approvals.find((reply) => reply.status === 409)!.body.code).toBe('INVALID_TRANSITION');

    const mixed = await Promise.all([
      t.request('POST', `/claims/${String(b!.body.id)}/approve`, { token: operator.token }),
      t.request('POST', `/claims/${String(b!.body.id)}/reject`, { token: second.token, body: { note: 'no' } }),
    ]);
    expect(mixed.map((reply) => reply.status).sort()).toEqual([200, 409]);
    const final = await t.request('GET', `/claims/${String(b!.body.id)}`, { token: operator.token });
    const winner = mixed.find((reply) => reply.status === 200)!;
    expect(final.body.status).toBe(winner.body.status);
    expect(await remainingOf(t, event.id, operator)).toEqual([final.body.status === 'GRANTED' ? 8 : 9]);
    const auditor = t.as('AUDITOR');
    for (const id of [a!.body.id, b!.body.id]) {
      const trail = await t.request<{ total: number }>('GET', `/audit-logs?targetId=${String(id)}`, { token: auditor.token });
      expect(trail.body.total).toBe(1);
    }
  });

  it('50 parallel requests with one Idempotency-Key: one claim, the rest replay it or 409 IDEMPOTENCY_IN_PROGRESS', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [user] = await eligibleUsers(t, operator, 1);
    const replies = await Promise.all(Array.from({ length: 50 }, () => claim(t, event.id, user!, 'tap-tap-tap')));
    const granted = replies.filter((reply) => reply.status === 201);
    expect(granted.length).toBeGreaterThanOrEqual(1);
    expect(new Set(granted.map((reply) => reply.body.id)).size).toBe(1);
    for (const reply of replies.filter((r) => r.status !== 201)) {
      expect(reply.status).toBe(409);
      expect(reply.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    }
    const mine = await t.request<{ total: number }>('GET', '/claims/me', { token: user!.token });
    expect(mine.body.total).toBe(1);
    expect(await remainingOf(t, event.id, user!)).toEqual([4]);
    expect((await claim(t, event.id, user!, 'tap-tap-tap')).body.id).toBe(granted[0]!.body.id);
  });
});

/**
 * Holds every claim that starts from now on just before it finishes (its gate slot still taken): `inside`
 * resolves once one is held, `release` lets them all go; reset `faults.at` to stop holding new ones.
 */
function holdClaimsAtTheirEnd(t: EventTestApp): { faults: ClaimFaults; inside: Promise<void>; release: () => void } {
  const faults = t.app.get(ClaimFaults);
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  faults.at = async (step: ClaimStep) => {
    if (step !== 'claim-finished') return;
    entered();
    await held;
  };
  return { faults, inside, release };
}

describe('claims beyond what the server works on at once', () => {
  let t: EventTestApp;

  beforeAll(async () => {
    // Retry-After at most 5 s however long this file's tests keep the gate shedding (see AdmissionGate).
    t = await startEventTestApp('claims_shedding', {
      CLAIM_MAX_IN_FLIGHT: '1',
      CLAIM_MAX_QUEUED: '0',
      CLAIM_MAX_RETRY_AFTER_S: '5',
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('are shed with 503 CLAIMS_BUSY and Retry-After before anything is recorded; a retry gets the real answer', async () => {
    const operator = t.as('OPERATOR');
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 30 }] });
    const users = await eligibleUsers(t, operator, 40);
    const replies = await Promise.all(
      users.map(async (user) => {
        const response = await t.app.inject({
          method: 'POST',
          url: `/events/${event.id}/claims`,
          headers: { authorization: `Bearer ${user.token}` },
        });
        return {
          user,
          status: response.statusCode,
          body: JSON.parse(response.body) as Record<string, unknown>,
          retryAfter: response.headers['retry-after'],
        };
      }),
    );
    const shed = replies.filter((reply) => reply.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const reply of shed) {
      expect(reply.body.code).toBe('CLAIMS_BUSY');
      expect(Number(reply.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(replies.every((reply) => reply.status === 201 || reply.status === 409 || reply.status === 503)).toBe(true);
    // Nothing was recorded for a shed request: each player's claims are exactly the answers that were not shed.
    for (const reply of replies) {
      const mine = await t.request<{ total: number }>('GET', `/claims/me?eventId=${event.id}`, { token: reply.user.token });
      expect(mine.body.total).toBe(reply.status === 503 ? 0 : 1);
    }
    // Retried one at a time, every shed player gets a final answer.
    for (const reply of shed) {
      const retry = await claim(t, event.id, reply.user);
      expect([201, 409]).toContain(retry.status);
    }
    expect(await remainingOf(t, event.id, operator)).toEqual([0]);
  });

  it('while the gate is full, a claim request is turned away as soon as it arrives, before its token, id or body is checked', async () => {
    const operator = t.as('OPERATOR');
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [holder] = await eligibleUsers(t, operator, 1);
    const { faults, inside, release } = holdClaimsAtTheirEnd(t);
    const forged = { authorization: 'Bearer not-a-token' };
    try {
      // The one claim this server works on at once is held; nothing may queue (CLAIM_MAX_QUEUED=0).
      const holding = claim(t, event.id, holder!);
      await inside;
      const busy = await t.app.inject({ method: 'POST', url: `/events/${event.id}/claims`, headers: forged });
      expect(busy.statusCode).toBe(503);
      const retryAfter = Number(busy.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(5);
      // The error body of API.md, as the gate's own 503 inside Nest gives it, and the headers every answer has.
      expect(busy.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'CLAIMS_BUSY',
        message: 'Too many claims are being processed; nothing was recorded, retry later',
        retryAfterSeconds: retryAfter,
      });
      expect(busy.headers['x-request-id']).toBeTruthy();
      expect(busy.headers['x-content-type-options']).toBe('nosniff');
      expect(busy.headers['cache-control']).toBe('no-store');
      // The route, whatever its query string or id (the id is not checked either).
      for (const url of [`/events/${event.id}/claims?from=app`, '/events/not-an-id/claims']) {
        expect((await t.app.inject({ method: 'POST', url, headers: forged })).statusCode).toBe(503);
      }
      expect(busy.headers.connection).not.toBe('close');
      // A body is not read while busy: the connection is not kept for a body that may be large.
      const withBody = await t.app.inject({
        method: 'POST',
        url: `/events/${event.id}/claims`,
        headers: { ...forged, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(withBody.statusCode).toBe(503);
      expect(withBody.headers.connection).toBe('close');
      // Only the claim route is answered early: any other request is authenticated as usual.
      const other = await t.app.inject({ method: 'GET', url: `/events/${event.id}/progress`, headers: forged });
      expect(other.statusCode).toBe(401);
      release();
      expect((await holding).status).toBe(201);
    } finally {
      release();
      faults.at = async () => undefined;
    }
    // With the gate free again the same request reaches authentication.
    const refused = await t.app.inject({ method: 'POST', url: `/events/${event.id}/claims`, headers: forged });
    expect(refused.statusCode).toBe(401);
  });

  it('answers for its key a claim the gateway resent after a drop, even while the gate is full, when the first replica took the key', async () => {
    const operator = t.as('OPERATOR');
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [holder, recorded, fresh, keyless] = await eligibleUsers(t, operator, 4);
    // The claim a dead replica recorded before it could answer (its key names it).
    const first = await claim(t, event.id, recorded!, 'dropped-tap');
    expect(first.status).toBe(201);
    const { faults, inside, release } = holdClaimsAtTheirEnd(t);
    const resent = (user: { token: string }, key?: string) =>
      t.app.inject({
        method: 'POST',
        url: `/events/${event.id}/claims`,
        headers: {
          authorization: `Bearer ${user.token}`,
          [RESENT_AFTER_DROP_HEADER]: '1',
          ...(key !== undefined && { 'idempotency-key': key }),
        },
      });
    try {
      const holding = claim(t, event.id, holder!);
      await inside;
      // The gate is full (one at once, none queued): a plain keyed claim is shed...
      expect((await claim(t, event.id, recorded!, 'dropped-tap')).status).toBe(503);
      // ...a resent one is answered for its key: the recorded claim, not CLAIMS_BUSY.
      const replayed = await resent(recorded!, 'dropped-tap');
      expect(replayed.statusCode).toBe(201);
      expect(replayed.json()).toMatchObject({ id: first.body.id, status: 'GRANTED' });
      // A key the dead replica never stored: nothing was recorded under it, so the gate sheds it truthfully.
      const neverStored = await resent(fresh!, 'never-stored');
      expect(neverStored.statusCode).toBe(503);
      expect(neverStored.json()).toMatchObject({ code: 'CLAIMS_BUSY' });
      // The mark counts only on a keyed request: without a key it is shed like any other.
      expect((await resent(keyless!)).statusCode).toBe(503);
      release();
      expect((await holding).status).toBe(201);
    } finally {
      release();
      faults.at = async () => undefined;
    }
    for (const user of [fresh!, keyless!]) {
      expect(
        (await t.request<{ total: number }>('GET', `/claims/me?eventId=${event.id}`, { token: user.token })).body.total,
      ).toBe(0);
    }
    expect(await remainingOf(t, event.id, operator)).toEqual([3]);
  });
});

describe('a queued claim and its start-by time', () => {
  let t: EventTestApp;

  beforeAll(async () => {
    // One claim at once, room to queue, and a queue limit longer than any test: only the start-by time ends a wait.
    t = await startEventTestApp('claims_start_by', {
      CLAIM_MAX_IN_FLIGHT: '1',
      CLAIM_MAX_QUEUED: '4',
      CLAIM_QUEUE_TIMEOUT_MS: '60000',
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is shed at its start-by time, with the queue limit far off, and records nothing', async () => {
    const operator = t.as('OPERATOR');
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [holder, queued] = await eligibleUsers(t, operator, 2);
    const { faults, inside, release } = holdClaimsAtTheirEnd(t);
    try {
      const holding = claim(t, event.id, holder!);
      await inside;
      // Queued behind the held claim, which is released only after this answer: its start-by time ended the wait.
      const answer = await t.app.inject({
        method: 'POST',
        url: `/events/${event.id}/claims`,
        headers: {
          authorization: `Bearer ${queued!.token}`,
          'idempotency-key': 'queued-tap',
          [START_BY_HEADER]: String(Date.now() + 300),
        },
      });
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ code: 'CLAIMS_BUSY' });
      release();
      expect((await holding).status).toBe(201);
    } finally {
      release();
      faults.at = async () => undefined;
    }
    expect(
      (await t.request<{ total: number }>('GET', `/claims/me?eventId=${event.id}`, { token: queued!.token })).body.total,
    ).toBe(0);
    // Nothing under its key either: a retry with it is decided as a first request.
    expect((await claim(t, event.id, queued!, 'queued-tap')).status).toBe(201);
  });
});
