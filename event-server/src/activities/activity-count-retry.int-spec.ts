import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, inject, vi } from 'vitest';
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
  /** The count commands the event server has sent (written to its socket) so far. */
  let counts = 0;

  beforeAll(async () => {
    proxy = await startStoreProxy(inject('mongoUri'));
    const uri = `${proxy.uri}${proxy.uri.includes('?') ? '&' : '?'}monitorCommands=true`;
    // The event stays in the catalog between the two checks, on a slow machine too: the count is the one command.
    t = await startEventTestApp('activity_count_retry', { MONGODB_URI: uri, CLAIM_CATALOG_TTL_MS: '60000' });
    operator = t.as('OPERATOR');
    t.app
      .get<Connection>(getConnectionToken())
      .getClient()
      .on('commandStarted', (event) => {
        if (event.commandName === 'count') counts += 1;
      });
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
    const before = counts;
    const pending = progress();
    // Once the count is on the wire (held by the paused relay): its connection is reset, and new ones go through.
    await vi.waitFor(() => expect(counts).toBe(before + 1), { timeout: 30_000, interval: 5 });
    proxy.cut();
    proxy.restore();
    proxy.resume();
    const answer = await pending;
    expect(answer.body).toMatchObject({ eligible: true });
    expect(answer.status).toBe(200);
    // Sent again on a new connection: the driver's retry, not a count that had not gone out before the cut.
    expect(counts).toBe(before + 2);
  });
});
