import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { PayoutBackfill } from './payout-backfill.service.js';
import { deleteEveryEndpoint } from '../testing/payout-test-kit.js';

/**
 * The endpoint copy's background refresh (WEBHOOK_ENDPOINT_CACHE_MS) never runs during a test here: each test
 * refreshes replica B's copy itself, where its timer would, so B's copy is stale exactly as long as the test says.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};
const WAIT = { timeout: 20_000, interval: 20 };

interface Delivery {
  id: string;
  endpointId: string;
  claimId: string;
  status: string;
  lastError?: string;
}

describe('payout webhooks on two replicas whose endpoint copies differ', () => {
  let a: EventTestApp;
  let b: EventTestApp;
  let admin: Actor;
  let operator: Actor;
  let receiver: TestReceiver;

  beforeAll(async () => {
    a = await startEventTestApp('payout_replicas', ENV);
    // B's relay rounds wait a minute: A's relay sends every delivery, so what it does with B's is what is tested.
    b = await startReplicaOf(a, 'payout_replicas', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '60000' });
    admin = a.as('ADMIN');
    operator = a.as('OPERATOR');
    receiver = await TestReceiver.start();
  });

  afterEach(async () => {
    await deleteEveryEndpoint(a, admin);
    await refreshB();
  });

  afterAll(async () => {
    await receiver?.stop();
    await Promise.all([a?.close(), b?.close()]);
  });

  /** What B's background refresh does when its timer fires. */
  async function refreshB(): Promise<void> {
    await b.app.get(WebhookEndpointDirectory).refresh();
  }

  async function subscribe(url: string): Promise<string> {
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  /** `count` AUTO grants, alternating between the replicas (A first). */
  async function grants(count: number): Promise<string[]> {
    const event = await createClaimableEvent(a, operator, { approval: 'AUTO' });
    const users = await eligibleUsers(a, operator, count);
    const ids: string[] = [];
    for (const [index, user] of users.entries()) {
      const answer = await claim(index % 2 === 0 ? a : b, event.id, user);
      expect(answer.status).toBe(201);
      ids.push(answer.body.id as string);
    }
    return ids;
  }

  async function payoutOf(claimId: string): Promise<string> {
    const found = await a.request<{ payout: { status: string } }>('GET', `/claims/${claimId}`, { token: operator.token });
    return found.body.payout.status;
  }

  async function deliveriesTo(endpointId: string): Promise<Delivery[]> {
    const list = await a.request<{ items: Delivery[] }>('GET', `/deliveries?endpointId=${endpointId}&limit=100`, {
      token: operator.token,
    });
    return list.body.items;
  }

  /** Each of `claims` delivered to `endpoint`, and received exactly once. */
  async function expectDeliveredOnce(endpoint: string, claims: readonly string[]): Promise<void> {
    await vi.waitFor(async () => {
      const delivered = (await deliveriesTo(endpoint)).filter((delivery) => delivery.status === 'DELIVERED');
      expect(new Set(delivered.map((delivery) => delivery.claimId))).toEqual(new Set(claims));
    }, WAIT);
    for (const id of claims) expect(receiver.received.filter((webhook) => webhook.body.includes(id))).toHaveLength(1);
  }

  it('grants recorded by a replica that does not know a new endpoint yet still reach it once that replica learns it', async () => {
    const endpoint = await subscribe(receiver.url);
    // Recorded at once after the 201, half of them by B, whose copy does not hold the endpoint yet.
    const claims = await grants(10);
    await refreshB();
    await expectDeliveredOnce(endpoint, claims);
    await vi.waitFor(async () => {
      for (const id of claims) expect(await payoutOf(id)).toBe('DELIVERED');
    }, WAIT);
  });

  it('claims refused by a replica that does not know a new endpoint yet send nothing once it learns it; the held ones are told', async () => {
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.pending', 'claim.granted', 'claim.rejected'] },
    });
    expect(created.status).toBe(201);
    const endpoint = created.body.id;
    // On B, whose copy does not hold the endpoint yet: a MANUAL event's claims, two held for review and two refused
    // (their players never met the condition).
    const event = await createClaimableEvent(a, operator, { approval: 'MANUAL' });
    const held: string[] = [];
    for (const user of await eligibleUsers(a, operator, 2)) {
      const answer = await claim(b, event.id, user);
      expect(answer.body.status).toBe('PENDING');
      held.push(answer.body.id as string);
    }
    const refused: string[] = [];
    for (const user of [a.as('USER'), a.as('USER')]) {
      const answer = await claim(b, event.id, user);
      expect(answer).toMatchObject({ status: 422, body: { code: 'CONDITION_NOT_MET' } });
      refused.push(answer.body.id as string);
    }
    await refreshB();
    await expectDeliveredOnce(endpoint, held);
    // The back-fill that recorded the held claims' webhooks read the refused ones too, and recorded none.
    expect((await deliveriesTo(endpoint)).filter((delivery) => refused.includes(delivery.claimId))).toEqual([]);
    for (const id of refused) expect(receiver.received.filter((webhook) => webhook.body.includes(id))).toEqual([]);
  });

  it('grants of an event type an endpoint has just subscribed to reach it, though a replica still has its old list', async () => {
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.revoked'] },
    });
    expect(created.status).toBe(201);
    const endpoint = created.body.id;
    await refreshB();
    const changed = await a.request('PATCH', `/webhook-endpoints/${endpoint}`, {
      token: admin.token,
      body: { events: ['claim.revoked', 'claim.granted'] },
    });
    expect(changed.status).toBe(200);
    // B's copy still says the endpoint takes only revocations.
    const claims = await grants(10);
    await refreshB();
    await expectDeliveredOnce(endpoint, claims);
  });

  it.each([
    ['disabled and enabled again', (id: string) => toggle(id)],
    ['disabled, enabled and disabled again', (id: string) => toggle(id).then(() => disable(id))],
    ['deleted', (id: string) => a.request('DELETE', `/webhook-endpoints/${id}`, { token: admin.token }).then(() => undefined)],
  ] as const)(
    "a back-fill of an endpoint's earlier enabling records nothing for transitions after it was %s",
    async (_label, change) => {
      const live = await subscribe(receiver.url);
      const endpoint = await subscribe(receiver.url);
      // What a replica's copy held when it started listing the endpoint (its back-fill passes run with this).
      const asFirstListed = await a.app.get(WebhookEndpointRepository).findById(endpoint);
      await disable(endpoint);
      await refreshB();
      const claims = await grants(6);
      await change(endpoint);
      await a.app.get(PayoutBackfill).pass(asFirstListed!);
      await vi.waitFor(async () => {
        for (const id of claims) expect(await payoutOf(id)).toBe('DELIVERED');
      }, WAIT);
      expect(await deliveriesTo(endpoint)).toEqual([]);
      expect((await deliveriesTo(live)).map((delivery) => delivery.claimId).sort()).toEqual([...claims].sort());
    },
  );

  it("a back-fill of an endpoint's enabling records nothing of an event type the endpoint has unsubscribed from since", async () => {
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted', 'claim.revoked'] },
    });
    expect(created.status).toBe(201);
    const endpoint = created.body.id;
    // What a replica's copy held when it started listing the endpoint (its back-fill passes run with this).
    const asFirstListed = await a.app.get(WebhookEndpointRepository).findById(endpoint);
    const narrowed = await a.request('PATCH', `/webhook-endpoints/${endpoint}`, {
      token: admin.token,
      body: { events: ['claim.granted'] },
    });
    expect(narrowed.status).toBe(200);
    await refreshB();
    // Granted and revoked once every copy says the endpoint takes grants only: its revocation is owed to nobody.
    const [granted] = await grants(1);
    const revoked = await a.request('POST', `/claims/${granted}/revoke`, { token: operator.token, body: { note: 'fraud' } });
    expect(revoked.status).toBe(200);
    await expectDeliveredOnce(endpoint, [granted!]);
    await a.app.get(PayoutBackfill).pass(asFirstListed!);
    await vi.waitFor(async () => expect(await payoutOf(granted!)).toBe('DELIVERED'), WAIT);
    expect((await deliveriesTo(endpoint)).map((delivery) => delivery.claimId)).toEqual([granted]);
    expect(receiver.received.filter((webhook) => webhook.body.includes('claim.revoked'))).toEqual([]);
  });

  it.each([
    ['took while disabled', ['disable', ['claim.granted', 'claim.revoked']]],
    [
      'took after the transition, when its types changed again while disabled',
      [['claim.granted', 'claim.revoked'], 'disable', ['claim.granted', 'claim.revoked', 'claim.rejected']],
    ],
  ] as const)("a back-fill of an endpoint's enabling records nothing of an event type it %s", async (_label, changes) => {
    const endpoint = await subscribe(receiver.url);
    // What a replica's copy held when it started listing the endpoint (its back-fill passes run with this).
    const asFirstListed = await a.app.get(WebhookEndpointRepository).findById(endpoint);
    await refreshB();
    // Revoked while the endpoint takes grants only: its revocation is owed to nobody, whatever it takes later.
    const [granted] = await grants(1);
    const revoked = await a.request('POST', `/claims/${granted}/revoke`, { token: operator.token, body: { note: 'fraud' } });
    expect(revoked.status).toBe(200);
    await expectDeliveredOnce(endpoint, [granted!]);
    for (const change of changes) {
      if (change === 'disable') await disable(endpoint);
      else {
        const changed = await a.request('PATCH', `/webhook-endpoints/${endpoint}`, {
          token: admin.token,
          body: { events: change },
        });
        expect(changed.status).toBe(200);
      }
    }
    await a.app.get(PayoutBackfill).pass(asFirstListed!);
    expect((await deliveriesTo(endpoint)).map((delivery) => delivery.claimId)).toEqual([granted]);
  });

  async function disable(id: string): Promise<void> {
    const disabled = await a.request('PATCH', `/webhook-endpoints/${id}`, { token: admin.token, body: { enabled: false } });
    expect(disabled.status).toBe(200);
  }

  /** Enables an endpoint that was disabled. */
  async function toggle(id: string): Promise<void> {
    const enabled = await a.request('PATCH', `/webhook-endpoints/${id}`, { token: admin.token, body: { enabled: true } });
    expect(enabled.status).toBe(200);
  }

  it.each([
    ['deleted', (id: string) => a.request('DELETE', `/webhook-endpoints/${id}`, { token: admin.token }), 204],
    [
      'disabled',
      (id: string) => a.request('PATCH', `/webhook-endpoints/${id}`, { token: admin.token, body: { enabled: false } }),
      200,
    ],
  ] as const)(
    'grants recorded after an endpoint was %s, by a replica that still lists it, are not FAILED for it',
    async (_label, change, expected) => {
      const live = await subscribe(receiver.url);
      const gone = await subscribe(receiver.url);
      await refreshB();
      expect((await change(gone)).status).toBe(expected);
      // B still holds `gone`: its grants name it, and the relay finds it gone when sending.
      const claims = await grants(6);
      await vi.waitFor(async () => {
        const delivered = (await deliveriesTo(live)).filter((delivery) => delivery.status === 'DELIVERED');
        expect(delivered).toHaveLength(claims.length);
        for (const id of claims) expect(await payoutOf(id)).toBe('DELIVERED');
      }, WAIT);
      expect((await deliveriesTo(gone)).filter((delivery) => delivery.status !== 'DELIVERED')).toEqual([]);
    },
  );
});
