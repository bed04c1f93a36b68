import { getConnectionToken } from '@nestjs/mongoose';
import { type Connection, Types } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Actor,
  claim,
  createClaimableEvent,
  eligibleUsers,
  judgeOwnerDead,
  stallAtKeyTaken,
} from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { IdempotencyKeyRepository } from '../idempotency/idempotency-key.repository.js';
import { ClaimRepository } from './claim.repository.js';
import { ClaimReconciler } from './claim-reconciler.service.js';

/**
 * A key's use keeps its lineage (keyedClaimId) on every path by which another request takes the key over
 * from a run that is only stalled: the reconciler forgetting the key, a second takeover after an INTERRUPTED
 * claim, two takeovers at once, a takeover whose write failed. The stalled run, waking, is refused by the
 * claim's unique id and answers that claim.
 */
describe('a stalled run of a keyed claim, its key taken over by another replica', () => {
  let a: EventTestApp;
  let b: EventTestApp;
  /** A third replica, for a request with the key while a and b each hold one. */
  let c: EventTestApp;

  beforeAll(async () => {
    a = await startEventTestApp('claims_lineage', { CLAIM_RECONCILE_INTERVAL_MS: '0' });
    const dbName = a.app.get<Connection>(getConnectionToken()).name;
    b = await startEventTestApp('claims_lineage', {
      EVENT_DB_NAME: dbName,
      AUTH_JWKS_URL: a.issuer.jwksUrl,
      CLAIM_RECONCILE_INTERVAL_MS: '0',
    });
    c = await startEventTestApp('claims_lineage', {
      EVENT_DB_NAME: dbName,
      AUTH_JWKS_URL: a.issuer.jwksUrl,
      CLAIM_RECONCILE_INTERVAL_MS: '0',
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), c?.close()]);
  });

  /** An AUTO event on a with one limited reward (5 coupons), and an eligible player. */
  async function couponEvent(): Promise<{ operator: Actor; event: { id: string }; player: Actor }> {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, {
      rewards: [{ type: 'COUPON' as const, name: 'C', quantity: 1, stock: 5, couponCode: 'C' }],
    });
    const [player] = await eligibleUsers(a, operator, 1);
    return { operator, event, player: player! };
  }

  /**
   * A player's first run with `key` stalled on a, and the reconciler (on b) forgot its key: nothing recorded.
   * `wakeAndExpectOne(body)`: the key still under its lineage, the event live again, the stalled run wakes; it
   * answers `body`, and the one claim in all is the refusal EVENT_NOT_ACTIVE.
   */
  async function forgottenWhileStalled(key: string) {
    const { operator, event, player } = await couponEvent();
    const store = a.app.get<Connection>(getConnectionToken());
    const stall = stallAtKeyTaken(a);
    const first = claim(a, event.id, player, key);
    await stall.untilStalled();
    // Past CLAIM_STALE_AFTER_MS (30 s by default) the reconciler of any replica forgets the key: nothing recorded.
    await b.app.get(ClaimReconciler).reconcile({ staleAfterMs: 3_600_000, keyStaleAfterMs: 0 });
    const forgotten = await store.collection('idempotency_keys').findOne({ userId: player.id, key });
    expect(forgotten).toMatchObject({ state: 'FORGOTTEN' });
    const patch = (app: EventTestApp, status: string) =>
      app.request('PATCH', `/events/${event.id}`, { token: operator.token, body: { status } });
    const wakeAndExpectOne = async (body: unknown): Promise<void> => {
      expect((await store.collection('idempotency_keys').findOne({ userId: player.id, key }))?.lineage).toBe(forgotten!.lineage);
      expect((await patch(a, 'ACTIVE')).status).toBe(200);
      stall.release();
      expect((await first).body).toEqual(body);
      const recorded = await store.collection('claims').find({ userId: player.id }).toArray();
      expect(recorded.map((doc) => [doc.status, doc.reason])).toEqual([['REJECTED', 'EVENT_NOT_ACTIVE']]);
    };
    return { event, player, patch, wakeAndExpectOne };
  }

  it('the reconciler forgot the key (FORGOTTEN, its lineage kept): the retry records under it, the woken run records nothing', async () => {
    const { event, player, patch, wakeAndExpectOne } = await forgottenWhileStalled('k-rec');
    expect((await patch(b, 'INACTIVE')).status).toBe(200);
    const retried = await claim(b, event.id, player, 'k-rec');
    expect(retried.status).toBe(422);
    await wakeAndExpectOne(retried.body);
  });

  it('a key taken over after its claim was INTERRUPTED (a new use), then taken over again from that stalled use: one claim of that use', async () => {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, {
      rewards: [
        { type: 'POINT' as const, name: 'A', quantity: 1, stock: 5 },
        { type: 'ITEM' as const, name: 'B', quantity: 1, stock: 5, itemCode: 'B' },
      ],
    });
    const [player] = await eligibleUsers(a, operator, 1);
    const store = a.app.get<Connection>(getConnectionToken());
    const keys = store.collection('idempotency_keys');
    // Run 1 on a: claim PROCESSING, then the process "dies" (crash: the key is abandoned in a's memory).
    const stall = stallAtKeyTaken(a, 'intent-inserted');
    expect((await claim(a, event.id, player!, 'k-chain')).status).toBe(500);
    // The reconciler rejects the stuck claim as INTERRUPTED (the key is not stale yet).
    await b.app.get(ClaimReconciler).reconcile({ staleAfterMs: 0, keyStaleAfterMs: 3_600_000 });
    // Run 2 on a takes the key over under a new lineage (RetryUnder: the interrupted claim's id) and stalls right after.
    const second = claim(a, event.id, player!, 'k-chain');
    await stall.untilStalled();
    const l2 = await keys.findOne({ userId: player!.id, key: 'k-chain' });
    expect(l2?.lineage).toBeDefined();
    // Run 2's replica is judged dead (missed beats), the event paused; run 3 on b takes the key over.
    await judgeOwnerDead(a, player!.id, 'k-chain');
    const patch = (app: EventTestApp, status: string) =>
      app.request('PATCH', `/events/${event.id}`, { token: operator.token, body: { status } });
    expect((await patch(b, 'INACTIVE')).status).toBe(200);
    const third = await claim(b, event.id, player!, 'k-chain');
    expect(third.status).toBe(422);
    // The second takeover keeps the lineage of the use it took over (judged by that use's own claim, none).
    expect((await keys.findOne({ userId: player!.id, key: 'k-chain' }))?.lineage).toBe(l2?.lineage);
    expect((await patch(a, 'ACTIVE')).status).toBe(200);
    stall.release();
    const woke = await second;
    const recorded = await store.collection('claims').find({ userId: player!.id }).toArray();
    const decided = recorded.filter((d) => d.reason !== 'INTERRUPTED');
    expect(decided).toHaveLength(1);
    expect(woke.body).toEqual(third.body);
  });

  it('two requests taking the forgotten key over at once, then the stalled run waking: one claim, one answer', async () => {
    const { event, player, patch, wakeAndExpectOne } = await forgottenWhileStalled('k-twice');
    // Replica b's takeover waits before its write, the key still FORGOTTEN; a second request takes it over meanwhile.
    const keys = b.app.get(IdempotencyKeyRepository);
    const takeOver = keys.takeOver.bind(keys);
    let reachedTakeOver = false;
    let releaseTakeOver!: () => void;
    const held = new Promise<void>((resolve) => (releaseTakeOver = resolve));
    vi.spyOn(keys, 'takeOver').mockImplementation(async (...args) => {
      reachedTakeOver = true;
      await held;
      return takeOver(...args);
    });
    expect((await patch(b, 'INACTIVE')).status).toBe(200);
    const onB = claim(b, event.id, player, 'k-twice');
    await vi.waitFor(() => expect(reachedTakeOver).toBe(true), { timeout: 30_000, interval: 20 });
    const onC = await claim(c, event.id, player, 'k-twice');
    expect(onC.status).toBe(422);
    releaseTakeOver();
    expect((await onB).body).toEqual(onC.body);
    await wakeAndExpectOne(onC.body);
  });

  it('a takeover whose write failed (the store failing over): the next request takes the key over under the same lineage', async () => {
    const { event, player, patch, wakeAndExpectOne } = await forgottenWhileStalled('k-blip');
    const keys = b.app.get(IdempotencyKeyRepository);
    vi.spyOn(keys, 'takeOver').mockRejectedValueOnce(new Error('connection reset (the store failing over)'));
    expect((await patch(b, 'INACTIVE')).status).toBe(200);
    expect((await claim(b, event.id, player, 'k-blip')).status).toBeGreaterThanOrEqual(500);
    const retried = await claim(b, event.id, player, 'k-blip');
    expect(retried.status).toBe(422);
    await wakeAndExpectOne(retried.body);
  });

  it('a keyed claim whose own id is taken while it tries units (the store naming no index, as FerretDB): answers that claim, does not walk the units for ever', async () => {
    const { event, player } = await couponEvent();
    const store = c.app.get<Connection>(getConnectionToken());
    const claims = c.app.get(ClaimRepository);
    const insert = claims.insert.bind(claims);
    let calls = 0;
    vi.spyOn(claims, 'insert').mockImplementation(async (doc) => {
      calls++;
      // A walk of the units that never ends fails here, as a state, not after a time.
      if (calls > 50) throw new Error('still walking the units');
      // First, a refusal the store does not name (a unit another replica took, on FerretDB).
      if (calls === 1) return 'DUPLICATE';
      // Then the stalled run of this key's use, waking, records its refusal under the same keyed id.
      if (calls === 2) {
        await store.collection('claims').insertOne({
          _id: new Types.ObjectId(doc.id),
          eventId: doc.eventId,
          userId: doc.userId,
          status: 'REJECTED',
          reason: 'EVENT_NOT_ACTIVE',
          slotKey: doc.id,
          rewards: doc.rewards,
          idempotencyKey: doc.idempotencyKey,
          createdAt: new Date(),
          decidedAt: new Date(),
          decidedBy: 'system',
        } as never);
      }
      return insert(doc);
    });
    const answer = await claim(c, event.id, player, 'k-walk');
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('EVENT_NOT_ACTIVE');
    expect(calls).toBeLessThan(10);
    expect(await store.collection('claims').countDocuments({ userId: player.id })).toBe(1);
  });
});
