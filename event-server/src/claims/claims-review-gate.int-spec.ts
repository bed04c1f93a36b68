import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { holdNextCall } from '../../../test-support/hold-next-call.js';
import { RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { ClaimRepository } from './claim.repository.js';
import { ClaimReviewService } from './claim-review.service.js';

/**
 * The reviews gate: review decisions past what one process makes at once are answered 503 REVIEWS_BUSY with
 * Retry-After at once, nothing decided; a decision the gateway sent on after another replica dropped it is
 * never turned away; a queued decision waits no longer than the gateway gave it to be started.
 */
describe('claims: the review decisions one process makes at once', () => {
  let t: EventTestApp;
  let operator: Actor;

  beforeAll(async () => {
    // One decision at a time; a queue of one that would hold its request for a minute but for its start-by time.
    t = await startEventTestApp('claims_review_gate', {
      REVIEW_MAX_IN_FLIGHT: '1',
      REVIEW_MAX_QUEUED: '1',
      REVIEW_QUEUE_TIMEOUT_MS: '60000',
    });
    operator = t.as('OPERATOR');
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  /** PENDING claims of fresh players on one MANUAL event. */
  async function pendingClaims(count: number): Promise<string[]> {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'ITEM', name: 'Shield', quantity: 1, stock: 10, itemCode: 'SH-1' }],
    });
    const players = await eligibleUsers(t, operator, count);
    const ids: string[] = [];
    for (const player of players) {
      const made = await claim(t, event.id, player);
      expect(made.body.status).toBe('PENDING');
      ids.push(String(made.body.id));
    }
    return ids;
  }

  const decide = (id: string, action: 'approve' | 'reject', headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: `/claims/${id}/${action}`,
      headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json', ...headers },
      payload: action === 'reject' ? { note: 'no' } : {},
    });

  const reviews = () => t.app.get(ClaimReviewService);

  const statusOf = async (id: string) =>
    (await t.request<{ status: string }>('GET', `/claims/${id}`, { token: operator.token })).body.status;

  it('answers decisions past the gate 503 REVIEWS_BUSY with Retry-After, nothing decided; they are made when retried', async () => {
    const [heldId, queuedId, shedId] = await pendingClaims(3);
    const hold = holdNextCall(t.app.get(ClaimRepository), 'findById');
    const holding = decide(heldId!, 'approve');
    await vi.waitFor(() => expect(hold.reached()).toBe(true), { timeout: 10_000, interval: 5 });
    // The one place in the queue is taken by the next decision; the one after it is turned away at once.
    const queued = decide(queuedId!, 'approve');
    await vi.waitFor(() => expect(reviews().load).toEqual({ inFlight: 1, queued: 1 }), { timeout: 10_000, interval: 5 });
    const shed = await decide(shedId!, 'reject');
    expect(shed.statusCode).toBe(503);
    expect(shed.json()).toMatchObject({ code: 'REVIEWS_BUSY', statusCode: 503 });
    expect(Number(shed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await statusOf(shedId!)).toBe('PENDING');

    hold.release();
    expect((await holding).statusCode).toBe(200);
    expect((await queued).statusCode).toBe(200);
    const retried = await decide(shedId!, 'reject');
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ status: 'REJECTED', reason: 'REVIEW_REJECTED' });
    expect(await statusOf(heldId!)).toBe('GRANTED');
    expect(await statusOf(queuedId!)).toBe('GRANTED');
  });

  it('turns away a decision the gateway sent on after another replica dropped it as any other, saying that replica may have made it', async () => {
    const [heldId, queuedId, resentId] = await pendingClaims(3);
    const hold = holdNextCall(t.app.get(ClaimRepository), 'findById');
    const holding = decide(heldId!, 'approve');
    await vi.waitFor(() => expect(hold.reached()).toBe(true), { timeout: 10_000, interval: 5 });
    const queued = decide(queuedId!, 'approve');
    await vi.waitFor(() => expect(reviews().load).toEqual({ inFlight: 1, queued: 1 }), { timeout: 10_000, interval: 5 });
    // The gate is full and so is its queue: a replica that died with its own full would send all of it here.
    const resent = await decide(resentId!, 'approve', { [RESENT_AFTER_DROP_HEADER]: '1' });
    expect(resent.statusCode).toBe(503);
    expect(resent.json()).toMatchObject({ code: 'REVIEWS_BUSY' });
    expect(JSON.stringify(resent.json().message)).toMatch(/may have decided it: send it again/);
    expect(Number(resent.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    hold.release();
    expect((await holding).statusCode).toBe(200);
    expect((await queued).statusCode).toBe(200);
    expect(reviews().load).toEqual({ inFlight: 0, queued: 0 });
    // Sent again, it is decided (or, had the dropped replica decided it, answered as that decision left it).
    const again = await decide(resentId!, 'approve', { [RESENT_AFTER_DROP_HEADER]: '1' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'GRANTED', decidedBy: operator.id });
  });

  it('sheds a queued decision once its start-by time has passed, not after the queue’s own limit', async () => {
    const [heldId, lateId] = await pendingClaims(2);
    const hold = holdNextCall(t.app.get(ClaimRepository), 'findById');
    const holding = decide(heldId!, 'approve');
    await vi.waitFor(() => expect(hold.reached()).toBe(true), { timeout: 10_000, interval: 5 });
    // It may be started for another 3 s: it waits that long in the queue (which would hold it a minute), and is
    // answered while the first decision is still held.
    const late = await decide(lateId!, 'approve', { [START_BY_HEADER]: String(Date.now() + 3_000) });
    expect(late.statusCode).toBe(503);
    expect(late.json()).toMatchObject({ code: 'REVIEWS_BUSY' });
    expect(reviews().load).toEqual({ inFlight: 1, queued: 0 });
    expect(await statusOf(lateId!)).toBe('PENDING');
    hold.release();
    expect((await holding).statusCode).toBe(200);
  });
});
