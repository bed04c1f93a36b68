import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { deleteEveryEndpoint } from '../testing/payout-test-kit.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { PayoutRelay } from './payout-relay.service.js';

/**
 * Neither replica runs a relay of its own (PAYOUT_RELAY_INTERVAL_MS=0): the test runs A's rounds itself, so that
 * the deliveries B records while the endpoint is disabled are first looked at once it is enabled again. B's copy
 * is refreshed only by the test, so it is stale exactly as long as the test says.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '0',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};
const WAIT = { timeout: 20_000, interval: 20 };

describe('payout webhooks of transitions recorded while their endpoint was disabled', () => {
  let a: EventTestApp;
  let b: EventTestApp;
  let admin: Actor;
  let operator: Actor;
  let receiver: TestReceiver;

  beforeAll(async () => {
    a = await startEventTestApp('payout_disabled_window', ENV);
    b = await startReplicaOf(a, 'payout_disabled_window', ENV);
    admin = a.as('ADMIN');
    operator = a.as('OPERATOR');
    receiver = await TestReceiver.start();
  });

  afterAll(async () => {
    await receiver?.stop();
    await Promise.all([a?.close(), b?.close()]);
  });

  async function patch(id: string, body: Record<string, unknown>): Promise<void> {
    const changed = await a.request('PATCH', `/webhook-endpoints/${id}`, { token: admin.token, body });
    expect(changed.status).toBe(200);
  }

  async function grantsOnB(eventId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (const user of await eligibleUsers(a, operator, count)) {
      const answer = await claim(b, eventId, user);
      expect(answer.body.status).toBe('GRANTED');
      ids.push(answer.body.id as string);
    }
    return ids;
  }

  /**
   * An endpoint for claim.granted that B has loaded, then disabled, and three grants B records meanwhile: B's copy
   * still lists the endpoint as enabled, so its grants name it, though nothing is owed to it now.
   */
  async function grantsOnBWhileDisabled(): Promise<{ endpoint: string; event: { id: string }; whileDisabled: string[] }> {
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    const endpoint = created.body.id;
    await b.app.get(WebhookEndpointDirectory).refresh();
    const event = await createClaimableEvent(a, operator, { approval: 'AUTO' });
    await patch(endpoint, { enabled: false });
    const whileDisabled = await grantsOnB(event.id, 3);
    return { endpoint, event, whileDisabled };
  }

  async function payoutOf(claimId: string): Promise<string> {
    const found = await a.request<{ payout: { status: string } }>('GET', `/claims/${claimId}`, { token: operator.token });
    return found.body.payout.status;
  }

  it('are not sent once the endpoint is enabled again, by a replica whose copy still listed it', async () => {
    const { endpoint, event, whileDisabled } = await grantsOnBWhileDisabled();
    await patch(endpoint, { enabled: true });
    await b.app.get(WebhookEndpointDirectory).refresh();
    const afterwards = await grantsOnB(event.id, 2);
    const relay = a.app.get(PayoutRelay);
    await vi.waitFor(async () => {
      await relay.runOnce();
      for (const id of afterwards) expect(await payoutOf(id)).toBe('DELIVERED');
      for (const id of whileDisabled) expect(await payoutOf(id)).not.toBe('PENDING');
    }, WAIT);
    for (const id of whileDisabled) expect(await payoutOf(id)).toBe('NOT_REQUIRED');
    const received = receiver.received.map((webhook) => (JSON.parse(webhook.body) as { data: { id: string } }).data.id);
    expect(received.sort()).toEqual([...afterwards].sort());
  });

  it('are not FAILED for an endpoint found disabled again, enabled between the transitions and the relay', async () => {
    await deleteEveryEndpoint(a, admin);
    const { endpoint, whileDisabled } = await grantsOnBWhileDisabled();
    await patch(endpoint, { enabled: true });
    await patch(endpoint, { enabled: false });
    const relay = a.app.get(PayoutRelay);
    await vi.waitFor(async () => {
      await relay.runOnce();
      for (const id of whileDisabled) expect(await payoutOf(id)).not.toBe('PENDING');
    }, WAIT);
    // Owed nothing (disabled when they were recorded): dropped, not FAILED, so no retry-failed sends them later.
    for (const id of whileDisabled) expect(await payoutOf(id)).toBe('NOT_REQUIRED');
    const deliveries = await a.request<{ items: unknown[] }>('GET', `/deliveries?endpointId=${endpoint}`, {
      token: operator.token,
    });
    expect(deliveries.body.items).toEqual([]);
    expect(receiver.received.filter((webhook) => whileDisabled.some((id) => webhook.body.includes(id)))).toEqual([]);
  });
});
