import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { type StoreProxy, startStoreProxy } from '../../../test-support/store-proxy.js';
import { type Actor, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';

/**
 * The count of a player's activities on the claim and progress path is a read the driver retries once when
 * the connection it was sent on is reset under it (a store restarting, a pooled connection cut by a proxy):
 * the player is answered, not told 503 for a blip the driver absorbs for every other read.
 */
describe('activity count when its connection is reset under it', () => {
  let proxy: StoreProxy;
  let t: EventTestApp;
  let operator: Actor;

  beforeAll(async () => {
    proxy = await startStoreProxy(inject('mongoUri'));
    t = await startEventTestApp('activity_count_retry', { MONGODB_URI: proxy.uri });
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    proxy?.restore();
    proxy?.resume();
    await t?.close();
    await proxy?.close();
  });

  it('answers the progress check once the driver has retried the count on a new connection', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 5 }] });
    const [player] = await eligibleUsers(t, operator, 1);
    const progress = () => t.request('GET', `/events/${event.id}/progress`, { token: player!.token });
    // Warm: the event is in the catalog, so the count is the only command of the next check.
    expect((await progress()).status).toBe(200);

    proxy.pause();
    const pending = progress();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The count is on the wire: its connection is reset, and new ones go through.
    proxy.cut();
    proxy.restore();
    proxy.resume();
    const answer = await pending;
    expect(answer.body).toMatchObject({ eligible: true });
    expect(answer.status).toBe(200);
  });
});
