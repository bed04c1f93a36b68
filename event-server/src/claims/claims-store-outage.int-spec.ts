import { getModelToken } from '@nestjs/mongoose';
import { type Model, mongo } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject, vi } from 'vitest';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { type StoreProxy, startStoreProxy, until } from '../../../test-support/store-proxy.js';
import { IdempotencyKeyEntity } from '../idempotency/idempotency-key.schema.js';
import { ProgressService } from '../progress/progress.service.js';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { ClaimEntity } from './claim.schema.js';

/**
 * The database going away under the event server (a store crashing and restarting, a replica set electing):
 * requests are answered 503 SERVICE_UNAVAILABLE with Retry-After, never 500, and a claim retried with its
 * Idempotency-Key once the store is back is decided once. The server talks to the real test database
 * through a relay the test cuts.
 */
describe('claims while the database is unavailable', () => {
  let proxy: StoreProxy;
  let t: EventTestApp;
  let operator: Actor;
  let claims: Model<ClaimEntity>;
  let keys: Model<IdempotencyKeyEntity>;

  beforeAll(async () => {
    proxy = await startStoreProxy(inject('mongoUri'));
    t = await startEventTestApp('claims_store_outage', { MONGODB_URI: proxy.uri });
    operator = t.as('OPERATOR');
    claims = t.app.get(getModelToken(ClaimEntity.name));
    keys = t.app.get(getModelToken(IdempotencyKeyEntity.name));
  });

  afterEach(() => {
    vi.restoreAllMocks();
    proxy.restore();
    proxy.resume();
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await proxy?.close();
  });

  /** A claim request; `startWithinMs`: sent as the gateway sends it (START_BY_HEADER), with that long to start. */
  function tap(eventId: string, user: Actor, key: string | undefined, startWithinMs?: number) {
    return claim(
      t,
      eventId,
      user,
      key,
      startWithinMs === undefined ? {} : { [START_BY_HEADER]: String(Date.now() + startWithinMs) },
    );
  }

  /** Taps with the key until the answer is not the outage's 503 (the driver reconnects on its own time). */
  function tapUntilServed(eventId: string, user: Actor, key: string) {
    return until(
      'a claim served once the store is back',
      () => tap(eventId, user, key),
      (answer) => !(answer.status === 503 && answer.body.code === 'SERVICE_UNAVAILABLE'),
    );
  }

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After while the store is cut, records nothing, and decides the retry once', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 5, stock: 3 }] });
    const [player] = await eligibleUsers(t, operator, 1);

    proxy.cut();
    const during = await tap(event.id, player!, 'k-outage');
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(Number(during.retryAfter)).toBeGreaterThanOrEqual(1);
    const read = await t.request('GET', `/events/${event.id}`, { token: operator.token });
    expect(read.status).toBe(503);
    expect(read.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    proxy.restore();
    const after = await tapUntilServed(event.id, player!, 'k-outage');
    expect(after.status).toBe(201);
    expect(after.body.status).toBe('GRANTED');
    expect(await claims.countDocuments({ eventId: event.id, userId: player!.id })).toBe(1);
    expect((await tap(event.id, player!, 'k-outage')).body).toEqual(after.body);
  });

  it('a claim whose store failed after its key was taken is decided by its retry at once, not held IN_PROGRESS', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 5, stock: 3 }] });
    const [player] = await eligibleUsers(t, operator, 1);
    // The key is stored, then the store fails under the activity read (the connection reset mid-request).
    vi.spyOn(t.app.get(ProgressService), 'evaluate').mockRejectedValueOnce(
      new mongo.MongoNetworkError('connection 7 to 127.0.0.1:27017 closed'),
    );

    const failed = await tap(event.id, player!, 'k-failed');
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await keys.findOne({ userId: player!.id, key: 'k-failed' }).lean().exec()).toMatchObject({ state: 'IN_PROGRESS' });
    expect(await claims.countDocuments({ eventId: event.id, userId: player!.id })).toBe(0);

    const retried = await tap(event.id, player!, 'k-failed');
    expect(retried.status).toBe(201);
    expect(retried.body.status).toBe('GRANTED');
    expect(await keys.findOne({ userId: player!.id, key: 'k-failed' }).lean().exec()).toMatchObject({ state: 'DONE' });
    expect(await claims.countDocuments({ eventId: event.id, userId: player!.id })).toBe(1);
  });

  // A store that stops answering (hung, partitioned away) leaves a claim's commands waiting. The gateway
  // waits for twice the time it gives a claim to start; the server answers before then, saying what is known.
  it('answers a keyed claim the store does not let finish IDEMPOTENCY_IN_PROGRESS before the gateway gives up; the retry gets it once recorded', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 5, stock: 3 }] });
    const [player] = await eligibleUsers(t, operator, 1);

    proxy.pause();
    // 2.5 s to start: the gateway would answer 504 after 5 s; the server answers before that.
    const unfinished = await tap(event.id, player!, 'k-hung', 2_500);
    expect(unfinished.status).toBe(409);
    expect(unfinished.body).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(unfinished.retryAfter).toBe('1');
    // Its retry while the store still does not answer is owed the key's outcome and reads it outside the gate:
    // answered in time too (it held on until the gateway's 504 before), recording nothing.
    const retried = await tap(event.id, player!, 'k-hung', 2_500);
    expect(retried.status).toBe(409);
    expect(retried.body).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(retried.retryAfter).toBe('1');

    proxy.resume();
    const answer = await until(
      'the key answering with its claim',
      () => tap(event.id, player!, 'k-hung'),
      (reply) => !(reply.status === 409 && reply.body.code === 'IDEMPOTENCY_IN_PROGRESS'),
    );
    expect(answer.status).toBe(201);
    expect(answer.body.status).toBe('GRANTED');
    expect(await claims.countDocuments({ eventId: event.id, userId: player!.id })).toBe(1);
  });

  it('answers an unkeyed claim the store does not let finish 503 SERVICE_UNAVAILABLE; a later claim tells what was recorded', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 5, stock: 3 }] });
    const [player] = await eligibleUsers(t, operator, 1);

    proxy.pause();
    const unfinished = await tap(event.id, player!, undefined, 2_500);
    expect(unfinished.status).toBe(503);
    expect(unfinished.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(unfinished.retryAfter).toBe('1');

    proxy.resume();
    // The first request goes on once the store answers, and records its claim.
    await until(
      'the first claim recorded',
      () => claims.countDocuments({ eventId: event.id, userId: player!.id }),
      (count) => count > 0,
    );
    const again = await tap(event.id, player!, undefined);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'ALREADY_CLAIMED' });
    const granted = await claims.findOne({ eventId: event.id, userId: player!.id, status: 'GRANTED' }).lean().exec();
    expect(granted).not.toBeNull();
  });
});
