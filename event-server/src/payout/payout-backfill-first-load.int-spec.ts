import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';

/**
 * A stack stopped seconds after an endpoint's creation: replica B recorded grants from a copy that did not list the
 * endpoint yet and stopped, and A, which learned the endpoint, stopped before its back-fill covered them (here A
 * stays up, for its token issuer, but runs no relay, so it has no back-fill). A replica started afterwards covers them: its first load names the endpoint,
 * enabled shortly before it started. Before, those grants stayed NOT_REQUIRED for good and the game never got them.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};
const WAIT = { timeout: 30_000, interval: 50 };

describe('payout webhooks of transitions recorded without a new endpoint by replicas stopped since', () => {
  const apps: EventTestApp[] = [];
  let receiver: TestReceiver | undefined;

  afterAll(async () => {
    await receiver?.stop();
    await Promise.all(apps.map((app) => app.close()));
  });

  it('are recorded and sent by a replica started afterwards', async () => {
    receiver = await TestReceiver.start();
    const a = await startEventTestApp('payout_first_load', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0' });
    apps.push(a);
    const b = await startReplicaOf(a, 'payout_first_load', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0' });
    const admin: Actor = a.as('ADMIN');
    const operator: Actor = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { approval: 'AUTO' });
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    // B's copy (loaded at its start, refreshed a minute later) does not list the endpoint: its grants name none.
    const granted: string[] = [];
    for (const user of await eligibleUsers(a, operator, 3)) {
      const answer = await claim(b, event.id, user);
      expect(answer.body.status).toBe('GRANTED');
      granted.push(answer.body.id as string);
    }
    const payoutOf = async (app: EventTestApp, id: string): Promise<string> =>
      (await app.request<{ payout: { status: string } }>('GET', `/claims/${id}`, { token: operator.token })).body.payout.status;
    for (const id of granted) expect(await payoutOf(a, id)).toBe('NOT_REQUIRED');
    await b.close();

    const c = await startReplicaOf(a, 'payout_first_load', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '20' });
    apps.push(c);
    await vi.waitFor(async () => {
      for (const id of granted) expect(await payoutOf(c, id)).toBe('DELIVERED');
    }, WAIT);
    const received = receiver.received.map((webhook) => (JSON.parse(webhook.body) as { data: { id: string } }).data.id);
    expect(received.sort()).toEqual([...granted].sort());
  });
});
