import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLogService } from '../audit/audit-log.service.js';
import { type Actor, claim, createClaimableEvent, eligibleUsers, remainingOf } from '../testing/claim-test-kit.js';
import { RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { createClaimableEvent as createEvent } from '../../../test-support/claimable-event.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';

describe('claims: outcomes, review, idempotency', () => {
  let t: EventTestApp;
  let operator: Actor;

  beforeAll(async () => {
    t = await startEventTestApp('claims');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('grants an AUTO claim with the rewards copied, and takes stock', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [
        { type: 'POINT', name: 'Points', quantity: 500 },
        { type: 'COUPON', name: '10% off', quantity: 1, stock: 5, couponCode: 'C-10' },
      ],
    });
    const [user] = await eligibleUsers(t, operator, 1);
    const reply = await claim(t, event.id, user!);
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      eventId: event.id,
      userId: user!.id,
      status: 'GRANTED',
      rewards: [
        { rewardId: event.rewardIds[0], type: 'POINT', name: 'Points', quantity: 500 },
        { rewardId: event.rewardIds[1], type: 'COUPON', name: '10% off', quantity: 1 },
      ],
    });
    expect(reply.body.decidedAt).toEqual(expect.any(String));
    expect(reply.body).not.toHaveProperty('reason');
    expect(reply.body).not.toHaveProperty('decidedBy');
    expect(await remainingOf(t, event.id, user!)).toEqual([null, 4]);
    const shown = await t.request<{ rewards: Array<{ remaining: number | null }> }>('GET', `/events/${event.id}`, {
      token: user!.token,
    });
    expect(shown.body.rewards.map((reward) => reward.remaining)).toEqual([null, 4]);

    const again = await claim(t, event.id, user!);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'ALREADY_CLAIMED', status: 'REJECTED', reason: 'ALREADY_CLAIMED', statusCode: 409 });
    expect(again.body.id).not.toBe(reply.body.id);
  });

  it('records refusals: conditions not met, event inactive / not started / ended, missing event', async () => {
    const event = await createClaimableEvent(t, operator);
    const stranger = t.as('USER');
    const notMet = await claim(t, event.id, stranger);
    expect(notMet.status).toBe(422);
    expect(notMet.body).toMatchObject({
      code: 'CONDITION_NOT_MET',
      status: 'REJECTED',
      reason: 'CONDITION_NOT_MET',
      userId: stranger.id,
    });
    const lookedUp = await t.request('GET', `/claims/${String(notMet.body.id)}`, { token: stranger.token });
    expect(lookedUp.status).toBe(200);
    expect(lookedUp.body).toMatchObject({ status: 'REJECTED', reason: 'CONDITION_NOT_MET' });

    const [user] = await eligibleUsers(t, operator, 1);
    const day = 24 * 60 * 60 * 1000;
    const inactive = await createClaimableEvent(t, operator, { status: 'INACTIVE' });
    const future = await createClaimableEvent(t, operator, {
      startAt: new Date(Date.now() + day),
      endAt: new Date(Date.now() + 2 * day),
    });
    const past = await createClaimableEvent(t, operator, {
      startAt: new Date(Date.now() - 2 * day),
      endAt: new Date(Date.now() - day),
    });
    for (const closed of [inactive, future, past]) {
      const reply = await claim(t, closed.id, user!);
      expect(reply.status).toBe(422);
      expect(reply.body).toMatchObject({ code: 'EVENT_NOT_ACTIVE', status: 'REJECTED', reason: 'EVENT_NOT_ACTIVE' });
    }
    // A system rejection does not block: once eligible, the same user gets the reward.
    await t.request('POST', '/activities', { token: operator.token, body: { userId: stranger.id, type: 'CLAIM_TEST' } });
    expect((await claim(t, event.id, stranger)).status).toBe(201);

    const missing = await claim(t, newId(), user!);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('EVENT_NOT_FOUND');
    const mine = await t.request<{ items: unknown[]; total: number }>('GET', '/claims/me', { token: user!.token });
    expect(mine.body.total).toBe(3);
  });

  it('lets no staff member review their own claim (separation of duties)', async () => {
    const event = await createClaimableEvent(t, operator, { approval: 'MANUAL' });
    // Staff who also play: an operator with the USER role, eligible like any player.
    const [player] = await eligibleUsers(t, operator, 1);
    const playingOperator = { id: player!.id, token: t.issuer.token(player!.id, ['USER', 'OPERATOR']) };
    const pending = await claim(t, event.id, playingOperator);
    expect(pending.body.status).toBe('PENDING');
    const id = String(pending.body.id);
    const own = await t.request('POST', `/claims/${id}/approve`, { token: playingOperator.token });
    expect(own).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const ownReject = await t.request('POST', `/claims/${id}/reject`, { token: playingOperator.token, body: { note: 'n' } });
    expect(ownReject.status).toBe(403);
    expect((await t.request('GET', `/claims/${id}`, { token: operator.token })).body).toMatchObject({ status: 'PENDING' });
    const approved = await t.request('POST', `/claims/${id}/approve`, { token: operator.token });
    expect(approved).toMatchObject({ status: 200, body: { status: 'GRANTED', decidedBy: operator.id } });
  });

  it('MANUAL: PENDING reserves stock, reject gives it back and still blocks; approve grants; revoke returns stock', async () => {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'ITEM', name: 'Sword', quantity: 1, stock: 2, itemCode: 'SW-1' }],
    });
    const [first, second, third] = await eligibleUsers(t, operator, 3);
    const pending = await claim(t, event.id, first!);
    expect(pending.status).toBe(201);
    expect(pending.body.status).toBe('PENDING');
    expect(await remainingOf(t, event.id, first!)).toEqual([1]);

    const tooLong = await t.request('POST', `/claims/${String(pending.body.id)}/reject`, {
      token: operator.token,
      body: { note: 'x'.repeat(1001) },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.code).toBe('VALIDATION_FAILED');
    // A reason of nothing but spaces is no reason, as a title of spaces is no title: refused, the claim still PENDING.
    // So is one of characters that show as nothing (zero-width space and joiner, a Hangul filler).
    for (const note of [' \t ', '\u200b', '\u200d\u3164 ']) {
      const blank = await t.request('POST', `/claims/${String(pending.body.id)}/reject`, {
        token: operator.token,
        body: { note },
      });
      expect(blank.status, JSON.stringify(note)).toBe(400);
      expect(blank.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(blank.body.message)).toMatch(/note must not be blank/);
    }

    const rejected = await t.request('POST', `/claims/${String(pending.body.id)}/reject`, {
      token: operator.token,
      body: { note: 'duplicate account' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({
      status: 'REJECTED',
      reason: 'REVIEW_REJECTED',
      note: 'duplicate account',
      decidedBy: operator.id,
    });
    expect(await remainingOf(t, event.id, first!)).toEqual([2]);
    const blocked = await claim(t, event.id, first!);
    expect(blocked.status).toBe(409);
    expect(blocked.body.code).toBe('ALREADY_CLAIMED');

    const second1 = await claim(t, event.id, second!);
    expect(second1.body.status).toBe('PENDING');
    const approved = await t.request('POST', `/claims/${String(second1.body.id)}/approve`, { token: operator.token });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'GRANTED', decidedBy: operator.id });
    // The same reviewer again (an answer lost, a double click): the claim as approved, nothing recorded again.
    const twice = await t.request('POST', `/claims/${String(second1.body.id)}/approve`, { token: operator.token });
    expect(twice.status).toBe(200);
    expect(twice.body).toEqual(approved.body);
    // Another reviewer is told it was decided already.
    const other = await t.request('POST', `/claims/${String(second1.body.id)}/approve`, { token: t.as('OPERATOR').token });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('INVALID_TRANSITION');
    const rejectNow = await t.request('POST', `/claims/${String(second1.body.id)}/reject`, {
      token: operator.token,
      body: { note: 'changed my mind' },
    });
    expect(rejectNow.status).toBe(409);
    expect(rejectNow.body.code).toBe('INVALID_TRANSITION');
    expect(await remainingOf(t, event.id, first!)).toEqual([1]);

    const revoked = await t.request('POST', `/claims/${String(second1.body.id)}/revoke`, {
      token: operator.token,
      body: { note: '=cheating' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'REVOKED', note: '=cheating' });
    expect(await remainingOf(t, event.id, first!)).toEqual([2]);
    expect((await claim(t, event.id, second!)).body.code).toBe('ALREADY_CLAIMED');
    const revokeAgain = await t.request('POST', `/claims/${String(second1.body.id)}/revoke`, {
      token: operator.token,
      body: { note: 'again' },
    });
    // The first revocation stands, its note too.
    expect(revokeAgain.status).toBe(200);
    expect(revokeAgain.body).toMatchObject({ status: 'REVOKED', note: '=cheating' });

    // The third user can still get one of the two units.
    expect((await claim(t, event.id, third!)).body.status).toBe('PENDING');

    const auditor = t.as('AUDITOR');
    const trail = await t.request<{ items: Array<{ action: string; changes: Record<string, unknown> }> }>(
      'GET',
      `/audit-logs?targetId=${String(second1.body.id)}`,
      { token: auditor.token },
    );
    expect(trail.body.items.map((entry) => entry.action)).toEqual(['CLAIM_REVOKED', 'CLAIM_APPROVED']);
    expect(trail.body.items[0]!.changes).toMatchObject({
      status: { before: 'GRANTED', after: 'REVOKED' },
      note: { after: '=cheating' },
    });
    const rejectTrail = await t.request<{ items: Array<{ action: string }> }>(
      'GET',
      `/audit-logs?targetId=${String(pending.body.id)}`,
      { token: auditor.token },
    );
    expect(rejectTrail.body.items.map((entry) => entry.action)).toEqual(['CLAIM_REJECTED']);
  });

  it("writes a decision's audit entry once, also when the request that decided died before writing it and is sent again", async () => {
    const event = await createClaimableEvent(t, operator, { approval: 'MANUAL' });
    const [user] = await eligibleUsers(t, operator, 1);
    const pending = await claim(t, event.id, user!);
    expect(pending.body.status).toBe('PENDING');
    const claimId = String(pending.body.id);
    // The replica that decides dies between the decision and its audit entry (as far as this request goes).
    const audit = t.app.get(AuditLogService);
    const spy = vi.spyOn(audit, 'recordOnce').mockRejectedValueOnce(new Error('replica killed'));
    try {
      const cut = await t.request('POST', `/claims/${claimId}/reject`, { token: operator.token, body: { note: 'bot' } });
      expect(cut.status).toBe(500);
    } finally {
      spy.mockRestore();
    }
    // The gateway sends the same review on (or the reviewer again): the decision stands, and its entry is written.
    for (let send = 0; send < 2; send++) {
      const again = await t.request('POST', `/claims/${claimId}/reject`, { token: operator.token, body: { note: 'bot' } });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: 'REJECTED', reason: 'REVIEW_REJECTED', note: 'bot' });
    }
    const trail = await t.request<{ items: Array<{ action: string; actorId: string; changes: Record<string, unknown> }> }>(
      'GET',
      `/audit-logs?targetId=${claimId}`,
      { token: t.as('AUDITOR').token },
    );
    expect(trail.body.items).toEqual([
      expect.objectContaining({
        action: 'CLAIM_REJECTED',
        actorId: operator.id,
        changes: { status: { before: 'PENDING', after: 'REJECTED' }, note: { before: null, after: 'bot' } },
      }),
    ]);
  });

  it('answers 404 CLAIM_NOT_FOUND for unknown claims and INVALID_TRANSITION for review of system rejections', async () => {
    for (const action of ['approve', 'reject', 'revoke']) {
      const reply = await t.request('POST', `/claims/${newId()}/${action}`, { token: operator.token, body: { note: 'n' } });
      if (action === 'approve') expect(reply.status).toBe(400); // approve takes no body
      const bare = await t.request('POST', `/claims/${newId()}/${action}`, {
        token: operator.token,
        ...(action !== 'approve' && { body: { note: 'n' } }),
      });
      expect(bare.status, action).toBe(404);
      expect(bare.body.code).toBe('CLAIM_NOT_FOUND');
    }
    const event = await createClaimableEvent(t, operator);
    const refused = await claim(t, event.id, t.as('USER'));
    const approve = await t.request('POST', `/claims/${String(refused.body.id)}/approve`, { token: operator.token });
    expect(approve.status).toBe(409);
    expect(approve.body.code).toBe('INVALID_TRANSITION');
  });

  it('Idempotency-Key: replays the first answer, records nothing new; other event -> 422; bad key -> 400', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 10 }],
    });
    const other = await createClaimableEvent(t, operator);
    const [user, poor] = await eligibleUsers(t, operator, 2);
    const first = await claim(t, event.id, user!, 'key-1');
    expect(first.status).toBe(201);
    const replay = await claim(t, event.id, user!, 'key-1');
    expect(replay).toEqual(first);
    const reused = await claim(t, other.id, user!, 'key-1');
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Another user's same key is their own.
    const stranger = t.as('USER');
    const strangers = await claim(t, event.id, stranger, 'key-1');
    expect(strangers.status).toBe(422);
    expect(strangers.body.code).toBe('CONDITION_NOT_MET');
    expect(await claim(t, event.id, stranger, 'key-1')).toEqual(strangers);
    // A refusal thrown before any claim is recorded (no such event) is replayed the same way.
    const nowhere = newId();
    const missing = await claim(t, nowhere, user!, 'key-missing');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('EVENT_NOT_FOUND');
    expect(await claim(t, nowhere, user!, 'key-missing')).toEqual(missing);

    const mine = await t.request<{ total: number }>('GET', `/claims/me?eventId=${event.id}`, { token: user!.token });
    expect(mine.body.total).toBe(1);
    expect(await remainingOf(t, event.id, user!)).toEqual([9]);

    for (const key of ['k'.repeat(256), 'with space', '']) {
      const reply = await claim(t, event.id, poor!, key);
      expect(reply.status, key).toBe(400);
      expect(reply.body.code).toBe('INVALID_IDEMPOTENCY_KEY');
    }
    expect((await claim(t, event.id, poor!, 'k'.repeat(255))).status).toBe(201);
  });

  it('Idempotency-Key: a replay answers the claim as it stands now (PENDING since approved, rejected or revoked)', async () => {
    // docs/api-rules.md, Idempotency: "The body is that claim as it stands now: a PENDING claim since approved comes
    // back 201 GRANTED, one since rejected 201 REJECTED". The same status (201) and claim id; its current state.
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 10 }],
    });
    const [approved, rejected] = await eligibleUsers(t, operator, 2);
    const review = (id: unknown, decision: string, body?: unknown) =>
      t.request('POST', `/claims/${String(id)}/${decision}`, { token: operator.token, body });
    const replayAfter = async (user: Actor, key: string, decide: (id: unknown) => Promise<unknown>) => {
      const first = await claim(t, event.id, user, key);
      expect([first.status, first.body.status]).toEqual([201, 'PENDING']);
      await decide(first.body.id);
      const replay = await claim(t, event.id, user, key);
      expect(replay.body.id).toBe(first.body.id);
      return replay;
    };
    const granted = await replayAfter(approved!, 'key-approved', (id) => review(id, 'approve'));
    expect([granted.status, granted.body.status]).toEqual([201, 'GRANTED']);
    expect(granted.body.decidedBy).toBe(operator.id);
    const refused = await replayAfter(rejected!, 'key-rejected', (id) => review(id, 'reject', { note: 'no' }));
    expect([refused.status, refused.body.status, refused.body.reason]).toEqual([201, 'REJECTED', 'REVIEW_REJECTED']);
    // And a grant revoked since: REVOKED.
    expect((await review(granted.body.id, 'revoke', { note: 'fraud' })).status).toBe(200);
    const revoked = await claim(t, event.id, approved!, 'key-approved');
    expect([revoked.status, revoked.body.id, revoked.body.status]).toEqual([201, granted.body.id, 'REVOKED']);
  });

  it('refuses bad input with 400 and a code, writing nothing; enforces roles', async () => {
    const event = await createClaimableEvent(t, operator);
    const [user] = await eligibleUsers(t, operator, 1);
    const unknownField = await t.request('POST', `/events/${event.id}/claims`, { token: user!.token, body: { extra: 1 } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.code).toBe('VALIDATION_FAILED');
    const badId = await t.request('POST', '/events/not-an-id/claims', { token: user!.token });
    expect(badId.status).toBe(400);
    expect(badId.body.code).toBe('INVALID_ID');
    expect((await t.request('GET', '/claims/not-an-id', { token: user!.token })).body.code).toBe('INVALID_ID');
    const mine = await t.request<{ total: number }>('GET', '/claims/me', { token: user!.token });
    expect(mine.body.total).toBe(0);
    expect((await t.request('POST', `/events/${event.id}/claims`, { token: user!.token, body: {} })).status).toBe(201);

    for (const query of [
      'limit=0',
      'limit=101',
      'page=0',
      // Decimal digits only: not what Number() would also take.
      'limit=0x10',
      'limit=1e1',
      'limit=',
      'limit=%205',
      'page=1.0',
      'page=+1',
      'status=PROCESSING',
      'from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z',
      'userId=x',
      'eventId=1',
      'bogus=1',
    ]) {
      const reply = await t.request('GET', `/claims?${query}`, { token: operator.token });
      expect(reply.status, query).toBe(400);
      expect(reply.body.code, query).toBe('VALIDATION_FAILED');
    }
    expect(
      (await t.request('GET', '/claims/export?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z', { token: operator.token }))
        .status,
    ).toBe(400);
    expect((await t.request('GET', '/claims/me?limit=101', { token: user!.token })).status).toBe(400);
    expect((await t.request('GET', '/claims?limit=007&page=1', { token: operator.token })).body).toMatchObject({
      limit: 7,
      page: 1,
    });

    const auditor = t.as('AUDITOR');
    const someClaim = (await t.request<{ items: Array<{ id: string }> }>('GET', '/claims/me', { token: user!.token })).body
      .items[0]!.id;
    for (const [who, method, url] of [
      [user!, 'POST', `/claims/${someClaim}/approve`],
      [user!, 'POST', `/claims/${someClaim}/revoke`],
      [user!, 'GET', '/claims/export'],
      [user!, 'GET', '/claims'],
      [auditor, 'POST', `/events/${event.id}/claims`],
      [auditor, 'POST', `/claims/${someClaim}/approve`],
      [auditor, 'POST', `/claims/${someClaim}/reject`],
      [operator, 'POST', `/events/${event.id}/claims`],
    ] as const) {
      const reply = await t.request(method, url, {
        token: who.token,
        ...(url.endsWith('revoke') || url.endsWith('reject') ? { body: { note: 'n' } } : {}),
      });
      expect(reply.status, `${url} as ${who === user ? 'USER' : who === auditor ? 'AUDITOR' : 'OPERATOR'}`).toBe(403);
    }
    expect((await t.request('GET', '/claims/me')).status).toBe(401);
    const admin = t.as('ADMIN');
    await t.request('POST', '/activities', { token: operator.token, body: { userId: admin.id, type: 'CLAIM_TEST' } });
    expect((await t.request('POST', `/events/${event.id}/claims`, { token: admin.token })).status).toBe(201);
  });

  it('takes an empty body sent as JSON as no body; a route that needs one says so; a prototype key is named', async () => {
    const event = await createClaimableEvent(t, operator);
    const [player] = await eligibleUsers(t, operator, 1);
    const send = async (url: string, token: string, payload: string) => {
      const reply = await t.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload,
      });
      return { status: reply.statusCode, body: JSON.parse(reply.body) as { code?: string; message?: unknown } };
    };
    expect(await send(`/events/${event.id}/claims`, player!.token, '')).toMatchObject({ status: 201 });
    const noEvent = await send('/events', operator.token, '');
    expect(noEvent).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(JSON.stringify(noEvent.body.message)).toMatch(/title/);
    expect(await send('/events', operator.token, '{"__proto__":{"x":1}}')).toMatchObject({
      status: 400,
      body: { code: 'INVALID_JSON', message: 'Request body has a forbidden key (__proto__ or constructor.prototype)' },
    });
    expect(await send('/events', operator.token, '{"title":')).toMatchObject({
      status: 400,
      body: { code: 'INVALID_JSON', message: 'Request body is not valid JSON' },
    });
    // Half a surrogate pair, escaped: the store would keep U+FFFD in its place, so it is refused, in a value
    // or in a key at any depth; a whole pair spelled as escapes is the character it names.
    const before = (await t.request('GET', '/events?limit=100', { token: operator.token })).body as { total: number };
    for (const payload of [
      '{"title":"Launch \\ud800 day"}',
      '{"title":"Launch \\udc00"}',
      '{"title":"\\ude00\\ud83d"}',
      '{"title":"ok","description":{"\\udfff":1}}',
      '{"title":"ok","condition":{"type":"ACTIVITY_COUNT","activity":"A","count":1,"x":["\\ud83d"]}}',
    ]) {
      expect(await send('/events', operator.token, payload), payload).toMatchObject({
        status: 400,
        body: {
          code: 'INVALID_JSON',
          message:
            'Request body has a string with a lone surrogate escape (\\ud800-\\udfff not in a pair): not valid Unicode text',
        },
      });
    }
    expect(((await t.request('GET', '/events?limit=100', { token: operator.token })).body as { total: number }).total).toBe(
      before.total,
    );
    const paired = await t.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json' },
      payload: `{"title":"Launch \\ud83d\\ude00","status":"INACTIVE","approval":"AUTO","condition":{"type":"ACTIVITY_COUNT","activity":"A","count":1},"startAt":"${new Date(Date.now() + 3_600_000).toISOString()}","endAt":"${new Date(Date.now() + 7_200_000).toISOString()}"}`,
    });
    expect(paired.statusCode, paired.body).toBe(201);
    expect((JSON.parse(paired.body) as { title: string }).title).toBe('Launch \u{1F600}');
  });

  it('takes JSON in UTF-8 only: bytes that are not UTF-8 are 400, another declared charset is 415, nothing is written', async () => {
    const before = ((await t.request('GET', '/events?limit=100', { token: operator.token })).body as { total: number }).total;
    const event = (title: string) =>
      `{"title":"${title}","status":"INACTIVE","approval":"AUTO","condition":{"type":"ACTIVITY_COUNT","activity":"A","count":1},"startAt":"${new Date(Date.now() + 3_600_000).toISOString()}","endAt":"${new Date(Date.now() + 7_200_000).toISOString()}"}`;
    const post = (payload: Buffer, contentType = 'application/json') =>
      t.app.inject({
        method: 'POST',
        url: '/events',
        headers: { authorization: `Bearer ${operator.token}`, 'content-type': contentType },
        payload,
      });
    // "Café" in Latin-1 (é is the single byte 0xE9): it used to be stored as "Caf\ufffd".
    const latin1 = await post(Buffer.from(event('Café'), 'latin1'));
    expect(latin1.statusCode).toBe(400);
    expect(latin1.json()).toMatchObject({
      code: 'INVALID_JSON',
      message: 'Request body is not valid UTF-8 text (JSON must be sent as UTF-8)',
    });
    for (const contentType of ['application/json; charset=latin1', 'application/json;charset="ISO-8859-1"']) {
      const declared = await post(Buffer.from(event('Café'), 'latin1'), contentType);
      expect(declared.statusCode, contentType).toBe(415);
      expect(declared.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(declared.json().message).toMatch(/^JSON bodies are UTF-8 only; charset=(latin1|iso-8859-1) is not supported$/);
    }
    expect(((await t.request('GET', '/events?limit=100', { token: operator.token })).body as { total: number }).total).toBe(
      before,
    );
    // UTF-8, with or without saying so.
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/json; Charset="UTF-8"']) {
      const created = await post(Buffer.from(event('Café'), 'utf8'), contentType);
      expect(created.statusCode, contentType).toBe(201);
      expect(created.json().title).toBe('Café');
    }
  });
});

describe('claims: a player over their claim rate', () => {
  let t: EventTestApp;
  let operator: Actor;

  beforeAll(async () => {
    // A burst of 3, then one a minute: the fourth request in a row is over the rate.
    t = await startEventTestApp('claims_rate', { CLAIM_PLAYER_BURST: '3', CLAIM_PLAYER_PER_MINUTE: '1' });
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is answered 429 with Retry-After and nothing recorded; other players are not held back', async () => {
    const event = await createClaimableEvent(t, operator);
    // Not eligible: each request let through is a recorded CONDITION_NOT_MET refusal.
    const looping = t.as('USER');
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const reply = await t.app.inject({
        method: 'POST',
        url: `/events/${event.id}/claims`,
        headers: { authorization: `Bearer ${looping.token}` },
      });
      answers.push({
        status: reply.statusCode,
        code: (JSON.parse(reply.body) as { code?: string }).code,
        retryAfter: reply.headers['retry-after'],
      });
    }
    expect(answers.slice(0, 3)).toEqual(Array(3).fill({ status: 422, code: 'CONDITION_NOT_MET', retryAfter: undefined }));
    expect(answers.slice(3)).toEqual(Array(2).fill({ status: 429, code: 'TOO_MANY_REQUESTS', retryAfter: '60' }));
    const recorded = await t.request<{ total: number }>('GET', `/claims?eventId=${event.id}&userId=${looping.id}`, {
      token: operator.token,
    });
    expect(recorded.body.total).toBe(3);

    const [eligible] = await eligibleUsers(t, operator, 1);
    expect((await claim(t, event.id, eligible!)).status).toBe(201);
  });

  it('counts only requests that decide: replays of a key answer as often as asked; a resent claim is not counted', async () => {
    const event = await createClaimableEvent(t, operator);
    const [player] = await eligibleUsers(t, operator, 1);
    const first = await claim(t, event.id, player!, 'key-1');
    expect(first.status).toBe(201);
    // Replays decide nothing: they give their token back (the burst is 3).
    for (let i = 0; i < 5; i++)
      expect(await claim(t, event.id, player!, 'key-1')).toMatchObject({ status: 201, body: { id: first.body.id } });
    // An event whose condition the player does not meet: each decision there is a recorded refusal.
    const other = await createEvent(t, operator.token, { activity: 'NEVER_DONE' });
    const send = async (key: string, resent: boolean) =>
      (
        await t.app.inject({
          method: 'POST',
          url: `/events/${other.id}/claims`,
          headers: {
            authorization: `Bearer ${player!.token}`,
            'idempotency-key': key,
            ...(resent && { [RESENT_AFTER_DROP_HEADER]: '1' }),
          },
        })
      ).statusCode;
    // Two decisions use up what is left; the third is over the rate, a resent one is not counted.
    expect([await send('a', false), await send('b', false), await send('c', false)]).toEqual([422, 422, 429]);
    expect(await send('d', true)).toBe(422);
  });
});
