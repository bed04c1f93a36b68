import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Actor } from '../testing/claim-test-kit.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { makeDeliveryDue } from '../testing/delivery-state.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import type { NewDelivery } from './delivery.js';
import { DeliveryRepository } from './delivery.repository.js';
import { PayoutRelay } from './payout-relay.service.js';

/**
 * Two send slots: one endpoint sends one webhook at a time and the relay holds at most 4 of its deliveries
 * (its share, 1 slot, times 4). Retries wait an hour, so every attempt here is one the test set up.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  PAYOUT_RELAY_CONCURRENCY: '2',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '3600,3600',
  WEBHOOK_TIMEOUT_MS: '60000',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};
const WAIT = { timeout: 25_000, interval: 30 };

describe("payout relay: one endpoint's backlog of retries does not hold back its new webhooks or a send-now request", () => {
  let t: EventTestApp;
  let admin: Actor;
  let operator: Actor;
  let receiver: TestReceiver;
  /** Requests the receiver holds unanswered until the test lets them go. */
  const held: ServerResponse[] = [];
  let holding = true;

  beforeAll(async () => {
    t = await startEventTestApp('payout_fairness', ENV);
    admin = t.as('ADMIN');
    operator = t.as('OPERATOR');
    receiver = await TestReceiver.start();
    receiver.answer = (_i, _w, res) => (holding ? void held.push(res) : void res.writeHead(204).end());
  });

  afterAll(async () => {
    await receiver?.stop();
    await t?.close();
  });

  it('sends new deliveries, retries that are due and the deliveries a request asks for side by side', async () => {
    const created = await t.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    const endpointId = created.body.id;

    const now = Date.now();
    const delivery = (webhookId: string, fields: Partial<NewDelivery>): NewDelivery => ({
      decisionId: newId(),
      endpointId,
      claimId: newId(),
      type: 'claim.granted',
      webhookId,
      body: JSON.stringify({ id: webhookId }),
      status: 'PENDING',
      attempts: 0,
      retryBase: 0,
      nextAttemptAt: new Date(now),
      createdAt: new Date(now - 600_000),
      ...fields,
    });
    // Due retries, due longer than any new delivery: oldest due first, they came before everything else.
    const retries = Array.from({ length: 40 }, (_, i) =>
      delivery(`retry-${i}`, {
        attempts: 1,
        lastAttemptAt: new Date(now - 300_000),
        nextAttemptAt: new Date(now - 60_000 + i),
      }),
    );
    // Failed twice, their next retry an hour away: only a send-now request sends them before that.
    const owed = Array.from({ length: 10 }, (_, i) =>
      delivery(`owed-${i}`, { attempts: 2, lastAttemptAt: new Date(now - 300_000), nextAttemptAt: new Date(now + 3600_000) }),
    );
    // Never attempted, due now.
    const fresh = Array.from({ length: 10 }, (_, i) => delivery(`fresh-${i}`, { nextAttemptAt: new Date(now + i) }));
    const repository = t.app.get(DeliveryRepository);
    expect(await repository.insertMissing([...retries, ...owed, ...fresh])).toHaveLength(60);

    // The relay takes its first deliveries (the receiver holds them), then the request comes.
    await vi.waitFor(() => expect(held.length).toBeGreaterThan(0), WAIT);
    const request = await repository.recordSendRequest(endpointId, operator.id, new Date());
    t.app.get(PayoutRelay).sendNow(request);
    holding = false;
    for (const res of held.splice(0)) res.writeHead(204).end();

    // Each kind gets its turn early: none waits for the others' backlog.
    await vi.waitFor(() => expect(receiver.received.length).toBeGreaterThanOrEqual(12), WAIT);
    const first = receiver.received.slice(0, 12).map((webhook) => String(webhook.headers['webhook-id']));
    for (const kind of ['retry-', 'owed-', 'fresh-'])
      expect(
        first.some((id) => id.startsWith(kind)),
        `${kind} in ${first.join(' ')}`,
      ).toBe(true);

    // And everything goes out, once each: no kind starves behind the others.
    await vi.waitFor(
      () => expect(new Set(receiver.received.map((webhook) => webhook.headers['webhook-id'])).size).toBe(60),
      WAIT,
    );
    await vi.waitFor(async () => expect(await repository.countWithStatus(endpointId, 'PENDING')).toBe(0), WAIT);
    expect(receiver.received).toHaveLength(60);
  });

  it("does not keep offering an endpoint's room to deliveries whose lease a relay that died holds", async () => {
    const created = await t.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    const endpointId = created.body.id;
    const repository = t.app.get(DeliveryRepository);
    const later = new Date(Date.now() + 3600_000);
    const stored = await repository.insertMissing(
      Array.from({ length: 10 }, (_, i) => ({
        decisionId: newId(),
        endpointId,
        claimId: newId(),
        type: 'claim.granted',
        webhookId: `after-death-${i}`,
        body: JSON.stringify({ id: i }),
        status: 'PENDING' as const,
        attempts: 0,
        retryBase: 0,
        nextAttemptAt: later,
        createdAt: new Date(),
      })),
    );
    const [dead, alive] = [stored.slice(0, 4), stored.slice(4)];
    // A relay leased the four oldest (as many as this relay holds of one endpoint) and died: the leases lapse
    // only after the send timeout (60 s) and the grace, after this test.
    expect(
      await repository.tryLeases(
        dead.map((delivery) => ({ deliveryId: delivery.id, attempt: 1 })),
        new Date(),
      ),
    ).toEqual(dead.map(() => true));
    for (const delivery of dead) await makeDeliveryDue(t.app, delivery.id, new Date(Date.now() - 60_000), 0);
    for (const delivery of alive) await makeDeliveryDue(t.app, delivery.id, new Date(), 0);

    await vi.waitFor(async () => {
      const pending = await t.request<{ items: Array<{ id: string; status: string; attempts: number }> }>(
        'GET',
        `/deliveries?endpointId=${endpointId}&limit=100`,
        { token: operator.token },
      );
      const byId = new Map(pending.body.items.map((delivery) => [delivery.id, delivery]));
      for (const delivery of alive) expect(byId.get(delivery.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
      for (const delivery of dead) expect(byId.get(delivery.id)).toMatchObject({ status: 'PENDING', attempts: 0 });
    }, WAIT);
  });
});
