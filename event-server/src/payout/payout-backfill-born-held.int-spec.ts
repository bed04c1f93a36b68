import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { deleteEveryEndpoint } from '../testing/payout-test-kit.js';

/**
 * A claim held for review by a replica whose copy does not list a new endpoint yet carries no born status: the
 * back-fill tells what it was born as from where it is now and from its decisions. As in
 * payout-endpoint-replicas.int-spec.ts, B's background refresh never runs: the test refreshes B's copy itself,
 * so B's copy is stale exactly as long as the test says.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};
const WAIT = { timeout: 20_000, interval: 50 };

interface Delivery {
  endpointId: string;
  claimId: string;
  type: string;
  status: string;
}

describe('payout webhooks of a MANUAL claim held by a replica whose copy does not list the endpoint yet', () => {
  let a: EventTestApp;
  let b: EventTestApp;
  let admin: Actor;
  let operator: Actor;
  let receiver: TestReceiver;

  beforeAll(async () => {
    a = await startEventTestApp('payout_stale_enabling', ENV);
    b = await startReplicaOf(a, 'payout_stale_enabling', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '60000' });
    admin = a.as('ADMIN');
    operator = a.as('OPERATOR');
    receiver = await TestReceiver.start();
  });

  afterEach(async () => {
    await deleteEveryEndpoint(a, admin);
    await b.app.get(WebhookEndpointDirectory).refresh();
  });

  afterAll(async () => {
    await receiver?.stop();
    await Promise.all([a?.close(), b?.close()]);
  });

  async function deliveriesTo(endpoint: string): Promise<Delivery[]> {
    const list = await a.request<{ items: Delivery[] }>('GET', `/deliveries?endpointId=${endpoint}&limit=100`, {
      token: operator.token,
    });
    return list.body.items;
  }

  function receivedOf(claimId: string, type: string): number {
    return receiver.received.filter((webhook) => {
      const body = JSON.parse(webhook.body) as { type: string; data: { id: string } };
      return body.type === type && body.data.id === claimId;
    }).length;
  }

  it('a claim held by a replica that did not list the endpoint yet, then approved and revoked, sends one claim.pending, one claim.granted and one claim.revoked', async () => {
    const types = ['claim.pending', 'claim.granted', 'claim.revoked'];
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: types },
    });
    expect(created.status).toBe(201);
    const endpoint = created.body.id;
    // Held for review by B, whose copy does not list the endpoint yet; approved and revoked through A, which lists it.
    const event = await createClaimableEvent(a, operator, { approval: 'MANUAL' });
    const held: string[] = [];
    for (const user of await eligibleUsers(a, operator, 3)) {
      const answer = await claim(b, event.id, user);
      expect(answer.body.status).toBe('PENDING');
      held.push(answer.body.id as string);
    }
    for (const id of held) {
      const approved = await a.request('POST', `/claims/${id}/approve`, { token: operator.token, body: {} });
      expect(approved.status).toBe(200);
      const revoked = await a.request('POST', `/claims/${id}/revoke`, { token: operator.token, body: { note: 'test' } });
      expect(revoked.status).toBe(200);
    }
    await b.app.get(WebhookEndpointDirectory).refresh();
    // B's back-fill records each claim's claim.pending, with whatever else it records for it.
    await vi.waitFor(async () => {
      const pending = (await deliveriesTo(endpoint)).filter((delivery) => delivery.type === 'claim.pending');
      expect(pending.map((delivery) => delivery.claimId).sort()).toEqual([...held].sort());
    }, WAIT);
    // Each transition once: the approval's claim.granted, and no second one for a claim read as born GRANTED.
    const expected = held.flatMap((id) => types.map((type) => `${id} ${type}`)).sort();
    await vi.waitFor(async () => {
      const all = await deliveriesTo(endpoint);
      expect(all.map((delivery) => `${delivery.claimId} ${delivery.type}`).sort()).toEqual(expected);
      expect(all.filter((delivery) => delivery.status !== 'DELIVERED')).toEqual([]);
    }, WAIT);
    for (const id of held) for (const type of types) expect(receivedOf(id, type)).toBe(1);
  });
});
